import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ECDSA_SIGNATURE_TYPE,
  formatCheckpoint,
  InvalidNoteKeyError,
  isValidKeyName,
  localNoteSigner,
  MalformedCheckpointError,
  MalformedNoteError,
  NoteSignatureError,
  type NoteSigner,
  noteKeyId,
  noteVerifier,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  signCheckpoint,
  signNote,
  verifierKey,
} from '../../../lambdas/core/ledger/signed-note';

// Real ECDSA (signature type 0x02) signed notes and verifier keys published in github.com/transparency-dev/formats,
// note/note_verifier_test.go at commit 0b850f1a7b4a5b70deeacac6535e4b8023809d21: the Sigstore Rekor log key and the
// Pixel 6 transparency log key, each with a checkpoint that log signed.
const REKOR_VKEY =
  'rekor.sigstore.dev+c0d23d6a+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=';
const REKOR_NOTE =
  'Rekor\n798034\nf+7CoKgXKE/tNys9TTXcr/ad6U/K3xvznmzew9y6SP0=\n\n— rekor.sigstore.dev wNI9ajBEAiARInWIWyCdyG27CO6LPnPekyw20qO0YJfoaPaowGp/XgIgc+qEHS3+GKVClgqq20uDLet7MCoTURUCRdxwWBHHufk=\n';
const REKOR_FORGED_NOTE =
  'Rekor\n798034\nf+7CoKgXKE/tNys9TTXcr/ad6U/K3xvznmzew9y6SP0=\n\n— rekor.sigstore.dev THIS/IS/PROBABLY/NOT/A/VALID/SIGNATURE/ANy/MOREowGp/XgIgc+qEHS3+GKVClgqq20uDLet7MCoTURUCRdxwWBHHufk=\n';
const PIXEL_VKEY =
  'pixel6_transparency_log+91c16e30+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABN+4x0Jk1yTwvLFI9A4NDdGZcX0aiWVdWM5XJVy0M4VWD3AvyW5Q6Hs9A0mcDkpUoYgn+KKPNzFC0H3nN3q6JQ8=';
const PIXEL_NOTE =
  'DEFAULT\n10\nbsWRucJU5xJPHb5eBdOm6+DM+VelCZBuvtI3sHERJ9Y=\n\n— pixel6_transparency_log kcFuMDBFAiEAhqMAP8P6qf6QxtUJhzMhbN+MbZ9dwfUHzGQJmffJHtoCIGD0cNe47dHWBoPwYdgBCepB06/+g5O1FmYjXl06owL4\n';

// The checkpoint example of c2sp.org/tlog-checkpoint (github.com/C2SP/C2SP tlog-checkpoint.md, commit 5ba5ee83).
const SPEC_CHECKPOINT_TEXT =
  'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

const ORIGIN = 'aor.example/ledger/test';

function p256Pem(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const checkpoint = { origin: ORIGIN, treeSize: 1234, rootHash: new Uint8Array(32).fill(7) };
const ours = p256Pem();
const signer = localNoteSigner(ours.privateKeyPem, ORIGIN);
const verifier = noteVerifier(ORIGIN, signer.publicKeySpkiDer);
const signed = await signCheckpoint(checkpoint, signer);

function signatureLineBytes(note: string): Buffer {
  const line = note.split('\n').at(-2) ?? '';
  return Buffer.from(line.split(' ')[2] ?? '', 'base64');
}

function replaceSignature(note: string, bytes: Uint8Array): string {
  const lines = note.split('\n');
  lines[lines.length - 2] = `— ${ORIGIN} ${Buffer.from(bytes).toString('base64')}`;
  return lines.join('\n');
}

describe('published ECDSA notes (transparency-dev/formats)', () => {
  it('parses the published verifier keys with their published key IDs', () => {
    expect(parseVerifierKey(REKOR_VKEY).keyId).toBe(0xc0d23d6a);
    expect(parseVerifierKey(PIXEL_VKEY).keyId).toBe(0x91c16e30);
  });

  it('opens checkpoints signed by Rekor and the Pixel 6 log', () => {
    const rekor = openNote(REKOR_NOTE, [parseVerifierKey(REKOR_VKEY)]);
    expect(rekor.text).toBe('Rekor\n798034\nf+7CoKgXKE/tNys9TTXcr/ad6U/K3xvznmzew9y6SP0=\n');
    expect(rekor.verified.map((s) => [s.keyName, s.keyId])).toEqual([['rekor.sigstore.dev', 0xc0d23d6a]]);
    expect(parseCheckpoint(rekor.text)).toMatchObject({ origin: 'Rekor', treeSize: 798034, extensions: [] });
    const pixel = openNote(new TextEncoder().encode(PIXEL_NOTE), [parseVerifierKey(PIXEL_VKEY)]);
    expect(parseCheckpoint(pixel.text).treeSize).toBe(10);
  });

  it('re-encodes the published key material into the same verifier key', () => {
    const material = Buffer.from(REKOR_VKEY.split('+').slice(2).join('+'), 'base64');
    expect(material[0]).toBe(ECDSA_SIGNATURE_TYPE);
    expect(verifierKey('rekor.sigstore.dev', material.subarray(1))).toBe(REKOR_VKEY);
    // The 0x02 key ID covers the SPKI DER alone.
    expect(noteKeyId(material.subarray(1))).toBe(
      createHash('sha256').update(material.subarray(1)).digest().readUInt32BE(0),
    );
  });

  it('rejects the published negative cases', () => {
    const rekor = parseVerifierKey(REKOR_VKEY);
    const renamed = parseVerifierKey(REKOR_VKEY.replace('rekor.sigstore.dev', 'bananas.sigstore.dev'));
    expect(() => openNote(REKOR_NOTE, [renamed])).toThrow(NoteSignatureError);
    expect(() => openNote(REKOR_FORGED_NOTE, [rekor])).toThrow(NoteSignatureError);
    expect(() => openNote(REKOR_NOTE, [parseVerifierKey(PIXEL_VKEY)])).toThrow(NoteSignatureError);
  });

  it.each([
    'bananas.sigstore.dev+12344556',
    'rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!',
    'rekor.sigstore.dev+12345678+AwEB',
    `rekor.sigstore.dev+NOT_A_NUMBER+${REKOR_VKEY.split('+').slice(2).join('+')}`,
    `rekor.sigstore.dev+00000000+${REKOR_VKEY.split('+').slice(2).join('+')}`,
  ])('refuses the published bad verifier key %s', (vkey) => {
    expect(() => parseVerifierKey(vkey)).toThrow(InvalidNoteKeyError);
  });
});

describe('signing and opening our checkpoints', () => {
  it('round-trips a checkpoint signed with a local P-256 key', () => {
    const { checkpoint: opened, note } = openCheckpoint(signed, ORIGIN, [verifier]);
    expect(opened).toEqual({ ...checkpoint, extensions: [] });
    expect(note.text).toBe(formatCheckpoint(checkpoint));
    expect(signed.startsWith(`${formatCheckpoint(checkpoint)}\n— ${ORIGIN} `)).toBe(true);
  });

  it('opens with a verifier built from the PEM public key or from the published verifier key string', () => {
    expect(() => openNote(signed, [noteVerifier(ORIGIN, ours.publicKeyPem)])).not.toThrow();
    expect(() => openNote(signed, [parseVerifierKey(verifierKey(ORIGIN, ours.publicKeyPem))])).not.toThrow();
  });

  it('stores the key ID of the spec (SHA-256 of the SPKI DER, 4 bytes) and the DER signature KMS returns', () => {
    const bytes = signatureLineBytes(signed);
    const expectedId = createHash('sha256').update(signer.publicKeySpkiDer).digest().subarray(0, 4);
    expect(bytes.subarray(0, 4)).toEqual(expectedId);
    expect(verifier.keyId).toBe(expectedId.readUInt32BE(0));
    // ASN.1 DER: SEQUENCE { INTEGER r, INTEGER s }
    expect(bytes[4]).toBe(0x30);
    expect(bytes[5]).toBe(bytes.length - 6);
  });

  it('rejects a tampered body', () => {
    const tampered = signed.replace('\n1234\n', '\n1235\n');
    expect(() => openNote(tampered, [verifier])).toThrow(NoteSignatureError);
  });

  it('rejects a tampered signature', () => {
    const bytes = signatureLineBytes(signed);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
    expect(() => openNote(replaceSignature(signed, bytes), [verifier])).toThrow(NoteSignatureError);
  });

  it('rejects a note signed by another key under the same name', () => {
    const other = noteVerifier(ORIGIN, p256Pem().publicKeyPem);
    expect(() => openNote(signed, [other])).toThrow(/not signed by any trusted key/);
  });

  it('rejects a note whose known key name and ID carry a signature from a different key', async () => {
    const impostor = localNoteSigner(p256Pem().privateKeyPem, ORIGIN);
    const impostorSignature = await impostor.sign(new TextEncoder().encode(formatCheckpoint(checkpoint)));
    const forged = new Uint8Array([...signatureLineBytes(signed).subarray(0, 4), ...impostorSignature]);
    expect(() => openNote(replaceSignature(signed, forged), [verifier])).toThrow(/does not verify/);
  });

  it('rejects a note signed under an unknown key name', () => {
    expect(() => openNote(signed, [noteVerifier('aor.example/other-log', signer.publicKeySpkiDer)])).toThrow(
      NoteSignatureError,
    );
  });

  it('ignores signatures from unknown keys next to a valid one (cosigners, rotated keys)', async () => {
    const cosigner = localNoteSigner(p256Pem().privateKeyPem, 'witness.example/w1');
    const cosigned = await signNote(formatCheckpoint(checkpoint), cosigner);
    const both = `${signed}${cosigned.split('\n').at(-2)}\n`;
    const opened = openNote(both, [verifier]);
    expect(opened.signatures.map((s) => s.keyName)).toEqual([ORIGIN, 'witness.example/w1']);
    expect(opened.verified.map((s) => s.keyName)).toEqual([ORIGIN]);
  });

  it('refuses to publish a signature the signer public key does not verify (KMS key mismatch)', async () => {
    const mismatched: NoteSigner = {
      ...signer,
      publicKeySpkiDer: localNoteSigner(p256Pem().privateKeyPem, ORIGIN).publicKeySpkiDer,
    };
    await expect(signNote('hello\n', mismatched)).rejects.toThrow(NoteSignatureError);
  });

  it('refuses to sign a checkpoint for an origin that is not the key name', async () => {
    await expect(signCheckpoint({ ...checkpoint, origin: 'aor.example/elsewhere' }, signer)).rejects.toThrow(
      MalformedCheckpointError,
    );
  });

  it('refuses a checkpoint for another log even when validly signed', () => {
    expect(() => openCheckpoint(signed, 'aor.example/ledger/prod', [verifier])).toThrow(
      MalformedCheckpointError,
    );
  });

  it('refuses ambiguous trusted keys', () => {
    expect(() => openNote(signed, [verifier, noteVerifier(ORIGIN, ours.publicKeyPem)])).toThrow(
      InvalidNoteKeyError,
    );
  });
});

describe('malformed notes', () => {
  const body = formatCheckpoint(checkpoint);
  const line = signed.slice(body.length + 1);

  it.each([
    ['no blank line before the signatures', `${body}${line}`],
    ['no final newline', signed.slice(0, -1)],
    ['no signature lines', `${body}\n`],
    ['a hyphen instead of the em dash', `${body}\n${line.replace('—', '-')}`],
    ['a missing space after the em dash', `${body}\n${line.replace('— ', '—')}`],
    ['a key name containing +', `${body}\n${line.replace(ORIGIN, `${ORIGIN}+x`)}`],
    ['a non-base64 character in the signature', `${body}\n${line.replace('\n', '!\n')}`],
    ['non-zero base64 padding bits', `${body}\n— ${ORIGIN} AAAAAAB=\n`],
    ['a signature of only a key ID', `${body}\n— ${ORIGIN} AAAAAA==\n`],
    ['a control character in the text', signed.replace('1234', '12\t34')],
    ['a carriage return', signed.replace('\n1234\n', '\r\n1234\n')],
    ['more signatures than the limit', `${signed}${line.repeat(100)}`],
  ])('rejects a note with %s', (_, note) => {
    expect(() => openNote(note, [verifier])).toThrow(MalformedNoteError);
  });

  it('rejects bytes that are not UTF-8', () => {
    const bytes = new Uint8Array([...Buffer.from(signed)]);
    bytes[0] = 0xff;
    expect(() => openNote(bytes, [verifier])).toThrow(MalformedNoteError);
  });

  it('treats everything up to the last blank line as text, so a blank line among signatures breaks them', () => {
    expect(() => openNote(`${signed}\n${line}`, [verifier])).toThrow(NoteSignatureError);
  });

  it('accepts a note text that itself contains blank lines, splitting at the last one', async () => {
    const note = await signNote('first paragraph\n\nsecond\n', signer);
    expect(openNote(note, [verifier]).text).toBe('first paragraph\n\nsecond\n');
  });

  it.each(['', 'no\nnewline', 'ends with\n\u0007bell\n'])('refuses to sign the text %j', async (text) => {
    await expect(signNote(text, signer)).rejects.toThrow(MalformedNoteError);
  });
});

describe('keys', () => {
  it.each([
    '',
    'has space',
    'plus+sign',
    'tab\tname',
    'nbsp\u00a0name',
    'nel\u0085name',
    'ideographic\u3000space',
  ])('refuses the key name %j', (name) => {
    expect(isValidKeyName(name)).toBe(false);
    expect(() => localNoteSigner(ours.privateKeyPem, name)).toThrow(InvalidNoteKeyError);
  });

  it('accepts URL-like key names', () => {
    expect(isValidKeyName('aor.phoenix-rooivalk.example/ledger/prod')).toBe(true);
  });

  it('refuses keys that are not ECDSA P-256', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const ed25519 = generateKeyPairSync('ed25519');
    expect(() =>
      localNoteSigner(p384.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), ORIGIN),
    ).toThrow(InvalidNoteKeyError);
    expect(() => noteVerifier(ORIGIN, ed25519.publicKey.export({ type: 'spki', format: 'der' }))).toThrow(
      InvalidNoteKeyError,
    );
    expect(() => noteVerifier(ORIGIN, new Uint8Array([1, 2, 3]))).toThrow(InvalidNoteKeyError);
    expect(() => localNoteSigner('not a key', ORIGIN)).toThrow(InvalidNoteKeyError);
  });
});

describe('checkpoint text', () => {
  it('formats and parses the c2sp.org/tlog-checkpoint example exactly', () => {
    const rootHash = Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64');
    expect(formatCheckpoint({ origin: 'example.com/behind-the-sofa', treeSize: 20852163, rootHash })).toBe(
      SPEC_CHECKPOINT_TEXT,
    );
    expect(parseCheckpoint(SPEC_CHECKPOINT_TEXT)).toEqual({
      origin: 'example.com/behind-the-sofa',
      treeSize: 20852163,
      rootHash: new Uint8Array(rootHash),
      extensions: [],
    });
  });

  it('keeps extension lines written by other logs', () => {
    const text = `${SPEC_CHECKPOINT_TEXT}Timestamp: 1673599771028600100\n`;
    expect(parseCheckpoint(text).extensions).toEqual(['Timestamp: 1673599771028600100']);
  });

  it('writes the empty tree as size 0', () => {
    expect(formatCheckpoint({ ...checkpoint, treeSize: 0 }).split('\n')[1]).toBe('0');
  });

  it.each([
    ['no final newline', SPEC_CHECKPOINT_TEXT.slice(0, -1)],
    ['a missing root hash', 'example.com/log\n5\n'],
    ['an empty origin', '\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n'],
    ['a leading zero', 'example.com/log\n05\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n'],
    ['a signed size', 'example.com/log\n+5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n'],
    ['an unsafe size', 'example.com/log\n9007199254740993\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n'],
    ['a short root hash', 'example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n'],
    ['a hex root hash', `example.com/log\n5\n${'ab'.repeat(32)}\n`],
    ['an empty extension line', `${SPEC_CHECKPOINT_TEXT}\n`],
  ])('rejects a checkpoint with %s', (_, text) => {
    expect(() => parseCheckpoint(text)).toThrow(MalformedCheckpointError);
  });

  it.each([
    { ...checkpoint, origin: '' },
    { ...checkpoint, origin: 'two\nlines' },
    { ...checkpoint, treeSize: -1 },
    { ...checkpoint, treeSize: 1.5 },
    { ...checkpoint, rootHash: new Uint8Array(31) },
  ])('refuses to format %j', (bad) => {
    expect(() => formatCheckpoint(bad)).toThrow(MalformedCheckpointError);
  });
});
