/**
 * C2SP signed notes (c2sp.org/signed-note) carrying tlog checkpoints (c2sp.org/tlog-checkpoint), signed with
 * ECDSA P-256 so that an AWS KMS asymmetric key (ECC_NIST_P256, ECDSA_SHA_256) can be the log's signer.
 *
 * Signature type: the spec assigns 0x02 to "ECDSA signatures as implemented by github.com/transparency-dev/witness"
 * (curve P-256, P-384 or P-521, SHOULD be P-256). That implementation signs SHA-256 of the note text and stores the
 * ASN.1 DER signature, which is exactly what KMS Sign returns for ECDSA_SHA_256 over a RAW message, so signatures
 * pass through unconverted. Unlike the spec's generic recommendation, the 0x02 key ID is the first four bytes of
 * SHA-256 over the SPKI DER public key alone (no key name, no type byte); following it keeps our checkpoints
 * verifiable by Go's golang.org/x/mod/sumdb/note with transparency-dev's ECDSA verifier, and Rekor-style keys
 * verifiable by us.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { decodeBase64Strict, encodeBase64 } from './base64';

export const ECDSA_SIGNATURE_TYPE = 0x02;

/** c2sp.org/signed-note: verifiers SHOULD cap signatures and MUST accept at least 16. */
export const MAX_NOTE_SIGNATURES = 100;

export class MalformedNoteError extends Error {
  override name = 'MalformedNoteError';
}

/** No trusted key verified the note, a trusted key's signature failed, or a signer produced a bad signature. */
export class NoteSignatureError extends Error {
  override name = 'NoteSignatureError';
}

export class MalformedCheckpointError extends Error {
  override name = 'MalformedCheckpointError';
}

/** A key name or public key that cannot identify a note signer (bad name, not P-256, bad vkey). */
export class InvalidNoteKeyError extends Error {
  override name = 'InvalidNoteKeyError';
}

/** Anything that can produce a DER ECDSA P-256 signature over SHA-256 of a message: a KMS key or a local key. */
export interface NoteSigner {
  readonly keyName: string;
  readonly publicKeySpkiDer: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export interface NoteVerifier {
  readonly keyName: string;
  readonly keyId: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteSignature {
  keyName: string;
  keyId: number;
  signature: Uint8Array;
}

export interface OpenedNote {
  text: string;
  /** Every signature line, including those from keys we do not know (cosigners, rotated keys). */
  signatures: NoteSignature[];
  /** The signatures a trusted verifier checked; never empty. */
  verified: NoteSignature[];
}

export interface Checkpoint {
  origin: string;
  treeSize: number;
  rootHash: Uint8Array;
}

export interface ParsedCheckpoint extends Checkpoint {
  /** Opaque extension lines; we never write any, but the spec lets other logs add them. */
  extensions: string[];
}

const EM_DASH_SPACE = '\u2014 ';
const ROOT_HASH_BYTES = 32;

/** Key names MUST be non-empty and contain no Unicode space (Go's unicode.IsSpace, hence U+0085) and no '+'. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s\u0085+]/u.test(name) && hasOnlyNoteCharacters(name);
}

function hasOnlyNoteCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) return false;
  }
  // Lone surrogates cannot be encoded as UTF-8; the encoder would silently substitute U+FFFD.
  return Buffer.from(text, 'utf8').toString('utf8') === text;
}

function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

function p256PublicKey(publicKey: Uint8Array | string): KeyObject {
  let key: KeyObject;
  try {
    key =
      typeof publicKey === 'string'
        ? createPublicKey(publicKey)
        : createPublicKey({ key: Buffer.from(publicKey), format: 'der', type: 'spki' });
  } catch (error) {
    throw new InvalidNoteKeyError('public key is not a PEM or SPKI DER public key', { cause: error });
  }
  assertP256(key);
  return key;
}

function assertP256(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new InvalidNoteKeyError('note keys must be ECDSA NIST P-256 (KMS key spec ECC_NIST_P256)');
  }
}

function spkiDer(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

/** Key ID for signature type 0x02: SHA-256 of the SPKI DER public key, first four bytes big-endian. */
export function noteKeyId(publicKeySpkiDer: Uint8Array): number {
  return createHash('sha256').update(publicKeySpkiDer).digest().readUInt32BE(0);
}

function keyIdHex(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

function assertKeyName(keyName: string): void {
  if (!isValidKeyName(keyName)) {
    throw new InvalidNoteKeyError(`"${keyName}" is not a valid note key name (non-empty, no spaces, no '+')`);
  }
}

/** A verifier for one P-256 public key, given as SPKI DER or PEM (what KMS GetPublicKey returns, or its PEM). */
export function noteVerifier(keyName: string, publicKey: Uint8Array | string): NoteVerifier {
  assertKeyName(keyName);
  const key = p256PublicKey(publicKey);
  return {
    keyName,
    keyId: noteKeyId(spkiDer(key)),
    verify: (message, signature) => verify('sha256', message, { key, dsaEncoding: 'der' }, signature),
  };
}

/**
 * The one-line public key an offline verifier is configured with (c2sp.org/signed-note "verifier keys"):
 * `<key name>+<hex key ID>+<base64(0x02 ‖ SPKI DER)>`.
 */
export function verifierKey(keyName: string, publicKey: Uint8Array | string): string {
  assertKeyName(keyName);
  const der = spkiDer(p256PublicKey(publicKey));
  const material = new Uint8Array([ECDSA_SIGNATURE_TYPE, ...der]);
  return `${keyName}+${keyIdHex(noteKeyId(der))}+${encodeBase64(material)}`;
}

export function parseVerifierKey(vkey: string): NoteVerifier {
  const firstPlus = vkey.indexOf('+');
  const secondPlus = vkey.indexOf('+', firstPlus + 1);
  if (firstPlus < 0 || secondPlus < 0) {
    throw new InvalidNoteKeyError('a verifier key has the form <name>+<hex key ID>+<base64 key>');
  }
  const keyName = vkey.slice(0, firstPlus);
  const idText = vkey.slice(firstPlus + 1, secondPlus);
  const material = decodeBase64Strict(vkey.slice(secondPlus + 1));
  if (!/^[0-9a-f]{8}$/.test(idText)) throw new InvalidNoteKeyError(`key ID "${idText}" is not 8 hex digits`);
  if (material === undefined || material[0] !== ECDSA_SIGNATURE_TYPE) {
    throw new InvalidNoteKeyError('verifier key material is not base64 of 0x02 (ECDSA) followed by SPKI DER');
  }
  const verifier = noteVerifier(keyName, material.subarray(1));
  if (keyIdHex(verifier.keyId) !== idText) {
    throw new InvalidNoteKeyError(
      `key ID ${idText} does not match the key, which has ID ${keyIdHex(verifier.keyId)}`,
    );
  }
  return verifier;
}

/** A signer over a local P-256 private key (PEM), for drills, tests and offline tooling. */
export function localNoteSigner(privateKeyPem: string, keyName: string): NoteSigner {
  assertKeyName(keyName);
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (error) {
    throw new InvalidNoteKeyError('private key is not a PEM private key', { cause: error });
  }
  assertP256(key);
  const publicKeySpkiDer = spkiDer(createPublicKey(key));
  return {
    keyName,
    publicKeySpkiDer,
    sign: async (message) => new Uint8Array(sign('sha256', message, { key, dsaEncoding: 'der' })),
  };
}

function assertNoteText(text: string): void {
  if (text.length === 0 || !text.endsWith('\n')) {
    throw new MalformedNoteError('note text must be non-empty and end with a newline');
  }
  if (!hasOnlyNoteCharacters(text)) {
    throw new MalformedNoteError(
      'note text must be valid UTF-8 without control characters other than newline',
    );
  }
}

/**
 * Signs `text` and returns the signed note. The signature is verified against the signer's own public key before
 * it is published, so a KMS key that does not match the configured public key fails here rather than producing
 * checkpoints nobody can verify.
 */
export async function signNote(text: string, signer: NoteSigner): Promise<string> {
  assertNoteText(text);
  const verifier = noteVerifier(signer.keyName, signer.publicKeySpkiDer);
  const message = utf8(text);
  const signature = await signer.sign(message);
  if (!verifier.verify(message, signature)) {
    throw new NoteSignatureError(
      `signer ${signer.keyName} returned a signature its public key does not verify`,
    );
  }
  const keyId = new Uint8Array(4);
  new DataView(keyId.buffer).setUint32(0, verifier.keyId);
  return `${text}\n${EM_DASH_SPACE}${signer.keyName} ${encodeBase64(new Uint8Array([...keyId, ...signature]))}\n`;
}

/**
 * Adds `signer`'s signature to a note someone else signed (a witness cosigning a checkpoint): the
 * same text, one more signature line. The existing signatures are kept as they are.
 */
export async function cosignNote(note: string, signer: NoteSigner): Promise<string> {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) {
    throw new MalformedNoteError('note has no blank line followed by newline-terminated signature lines');
  }
  const text = note.slice(0, split + 1);
  const signature = (await signNote(text, signer)).slice(text.length + 1);
  return `${note}${signature}`;
}

/** The same key under another name: one key per region signs its log as the origin and cosigns as its witness. */
export function signerNamed(signer: NoteSigner, keyName: string): NoteSigner {
  assertKeyName(keyName);
  return { keyName, publicKeySpkiDer: signer.publicKeySpkiDer, sign: (message) => signer.sign(message) };
}

function decodeNote(note: string | Uint8Array): string {
  if (typeof note === 'string') return note;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
  } catch (error) {
    throw new MalformedNoteError('note is not valid UTF-8', { cause: error });
  }
}

function parseSignatureLine(line: string): NoteSignature {
  const match = /^\u2014 ([^ ]+) ([^ ]+)$/u.exec(line);
  const keyName = match?.[1];
  const encoded = match?.[2];
  if (keyName === undefined || encoded === undefined || !isValidKeyName(keyName)) {
    throw new MalformedNoteError(`malformed signature line "${line}"`);
  }
  const bytes = decodeBase64Strict(encoded);
  if (bytes === undefined || bytes.length <= 4) {
    throw new MalformedNoteError(`signature of ${keyName} is not base64 of a key ID and a signature`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { keyName, keyId: view.getUint32(0), signature: bytes.subarray(4) };
}

/**
 * Parses a signed note and verifies it against trusted keys, following c2sp.org/signed-note: signatures from
 * unknown keys (name and ID not both matching) are ignored, any failing signature from a known key rejects the
 * whole note, and at least one known key must have signed.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const whole = decodeNote(note);
  if (!hasOnlyNoteCharacters(whole)) {
    throw new MalformedNoteError('note must be valid UTF-8 without control characters other than newline');
  }
  // The text ends at the last blank line: signature lines can never be empty.
  const split = whole.lastIndexOf('\n\n');
  if (split < 0 || !whole.endsWith('\n')) {
    throw new MalformedNoteError('note has no blank line followed by newline-terminated signature lines');
  }
  const text = whole.slice(0, split + 1);
  const lines = whole.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) {
    throw new MalformedNoteError(
      `note has ${lines.length} signatures, more than the ${MAX_NOTE_SIGNATURES} accepted`,
    );
  }
  const signatures = lines.map(parseSignatureLine);

  const trusted = new Map<string, NoteVerifier>();
  for (const verifier of verifiers) {
    const id = `${verifier.keyName}+${keyIdHex(verifier.keyId)}`;
    if (trusted.has(id)) throw new InvalidNoteKeyError(`two trusted keys share the name and key ID ${id}`);
    trusted.set(id, verifier);
  }
  const message = utf8(text);
  const verified: NoteSignature[] = [];
  for (const signature of signatures) {
    const verifier = trusted.get(`${signature.keyName}+${keyIdHex(signature.keyId)}`);
    if (verifier === undefined) continue;
    if (!verifier.verify(message, signature.signature)) {
      throw new NoteSignatureError(`signature by ${signature.keyName} does not verify`);
    }
    verified.push(signature);
  }
  if (verified.length === 0) {
    throw new NoteSignatureError('note is not signed by any trusted key');
  }
  return { text, signatures, verified };
}

/** c2sp.org/tlog-checkpoint note text: origin, decimal tree size, base64 root hash, each on its own line. */
export function formatCheckpoint({ origin, treeSize, rootHash }: Checkpoint): string {
  if (origin.length === 0 || origin.includes('\n') || !hasOnlyNoteCharacters(origin)) {
    throw new MalformedCheckpointError('origin must be a non-empty single line of printable UTF-8');
  }
  if (!Number.isSafeInteger(treeSize) || treeSize < 0) {
    throw new MalformedCheckpointError(`tree size ${treeSize} is not a non-negative safe integer`);
  }
  if (rootHash.length !== ROOT_HASH_BYTES) {
    throw new MalformedCheckpointError(`root hash is ${rootHash.length} bytes, expected ${ROOT_HASH_BYTES}`);
  }
  return `${origin}\n${treeSize}\n${encodeBase64(rootHash)}\n`;
}

export function parseCheckpoint(text: string): ParsedCheckpoint {
  if (!text.endsWith('\n')) throw new MalformedCheckpointError('checkpoint must end with a newline');
  const [origin, sizeText, hashText, ...extensions] = text.slice(0, -1).split('\n');
  if (origin === undefined || sizeText === undefined || hashText === undefined) {
    throw new MalformedCheckpointError('checkpoint needs origin, tree size and root hash lines');
  }
  if (origin.length === 0) throw new MalformedCheckpointError('origin line is empty');
  const treeSize = Number(sizeText);
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(treeSize)) {
    throw new MalformedCheckpointError(`tree size "${sizeText}" is not a canonical decimal safe integer`);
  }
  const rootHash = decodeBase64Strict(hashText);
  if (rootHash?.length !== ROOT_HASH_BYTES) {
    throw new MalformedCheckpointError(`root hash "${hashText}" is not base64 of ${ROOT_HASH_BYTES} bytes`);
  }
  if (extensions.some((line) => line.length === 0)) {
    throw new MalformedCheckpointError('extension lines must not be empty');
  }
  return { origin, treeSize, rootHash, extensions };
}

/**
 * Opens a signed checkpoint and checks it is for the expected log: a key that signs for several logs would
 * otherwise let one log's checkpoint stand in for another's.
 */
export function openCheckpoint(
  note: string | Uint8Array,
  expectedOrigin: string,
  verifiers: readonly NoteVerifier[],
): { checkpoint: ParsedCheckpoint; note: OpenedNote } {
  const opened = openNote(note, verifiers);
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== expectedOrigin) {
    throw new MalformedCheckpointError(
      `checkpoint is for "${checkpoint.origin}", expected "${expectedOrigin}"`,
    );
  }
  return { checkpoint, note: opened };
}

/** Signs a checkpoint; the key name must be the origin, as c2sp.org/tlog-checkpoint recommends. */
export async function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner): Promise<string> {
  if (signer.keyName !== checkpoint.origin) {
    throw new MalformedCheckpointError(`signer ${signer.keyName} does not match origin ${checkpoint.origin}`);
  }
  return signNote(formatCheckpoint(checkpoint), signer);
}
