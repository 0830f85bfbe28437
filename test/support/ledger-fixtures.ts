import { generateKeyPairSync } from 'node:crypto';
import { type AuditRecord, canonicalEntryBytes } from '../../lambdas/core/ledger/audit-record';
import { witnessName } from '../../lambdas/core/ledger/ledger-contract';
import type { LedgerExportPart } from '../../lambdas/core/ledger/ledger-export';
import { leafHash, MerkleFrontier } from '../../lambdas/core/ledger/merkle';
import type {
  CosignedCheckpoint,
  IntegratedEntry,
  LedgerStore,
  StoredCheckpoint,
} from '../../lambdas/core/ledger/ports';
import {
  localNoteSigner,
  type NoteSigner,
  type NoteVerifier,
  noteVerifier,
  signCheckpoint,
  signNote,
  verifierKey,
} from '../../lambdas/core/ledger/signed-note';
import type { LedgerExportContents } from '../../lambdas/core/ledger/verify-export';

export const TEST_ORIGIN = 'test.localhost/aor/audit-ledger';

export function testSigner(): { signer: NoteSigner; verifier: NoteVerifier; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    signer: localNoteSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), TEST_ORIGIN),
    verifier: noteVerifier(TEST_ORIGIN, publicKeyPem),
    publicKeyPem,
  };
}

export function auditRecord(n: number, overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    action: 'kubernetes.rollout-restart',
    target: { type: 'kubernetes/statefulset', id: `phoenix-rooivalk/blockchain-node-${n}` },
    actor: {
      type: 'workflow',
      id: 'AorIncidentResponse',
      execution: `exec-${n}`,
      state: 'Restart blockchain node',
    },
    occurredAt: '2026-11-23T04:00:00.000Z',
    outcome: 'succeeded',
    incidentId: 'INC-20261123-0001',
    ...overrides,
  };
}

/** A clock that moves one second per reading, so every append has its own receive time. */
export function steppingClock(start = Date.UTC(2026, 10, 23, 4)): () => Date {
  let now = start;
  return () => {
    now += 1_000;
    return new Date(now);
  };
}

export class SimulatedCrashError extends Error {
  override name = 'SimulatedCrashError';
}

/**
 * Wraps a store so the `nth` call of `method` dies before it does anything, as a Lambda killed
 * mid-run would; later calls go through.
 */
export function crashingStore<T extends LedgerStore>(store: T, method: keyof LedgerStore, nth = 1): T {
  let calls = 0;
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== method || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls++;
        if (calls === nth) throw new SimulatedCrashError(`crashed before ${String(method)}`);
        return value.apply(target, args);
      };
    },
  });
}

/** One region's log key: it signs the log under the origin and cosigns the other log as its witness. */
export interface LogKey {
  readonly origin: string;
  readonly signer: NoteSigner;
  /** The same key under `witnessName(origin)`. */
  readonly witness: NoteSigner;
  readonly publicKeyPem: string;
  /** The c2sp vkey an auditor pins. */
  readonly verifierKey: string;
}

export function logKey(origin: string): LogKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    origin,
    signer: localNoteSigner(privateKeyPem, origin),
    witness: localNoteSigner(privateKeyPem, witnessName(origin)),
    publicKeyPem,
    verifierKey: verifierKey(origin, publicKeyPem),
  };
}

/** A log as the archive and the table would hand it to an export. */
export interface FixtureLog {
  readonly origin: string;
  readonly entries: IntegratedEntry[];
  readonly checkpoints: StoredCheckpoint[];
}

/** Entry i of a fixture log: the canonical JSON of `auditRecord(i)`. */
export function fixtureEntry(index: number): string {
  return Buffer.from(canonicalEntryBytes(auditRecord(index))).toString('utf8');
}

/**
 * A log built leaf by leaf with the Merkle frontier and signed with `key`, without the sequencer
 * or a store: as many entries as the largest checkpoint size, a checkpoint at each size given (in
 * that order, so a test can list them out of order or twice).
 */
export async function fixtureLog(
  key: LogKey,
  checkpointSizes: readonly number[],
  entry: (index: number) => string = fixtureEntry,
): Promise<FixtureLog> {
  const size = Math.max(0, ...checkpointSizes);
  const frontier = new MerkleFrontier();
  const roots = [frontier.root()];
  const entries: IntegratedEntry[] = [];
  for (let index = 0; index < size; index++) {
    const text = entry(index);
    const hash = leafHash(Buffer.from(text, 'utf8'));
    frontier.append(hash);
    roots.push(frontier.root());
    entries.push({
      index,
      writer: 'incident-response',
      idempotencyKey: `key-${index}`,
      entry: text,
      leafHash: Buffer.from(hash).toString('hex'),
      receivedAt: new Date(Date.UTC(2026, 10, 23, 4, 0, index)).toISOString(),
    });
  }
  const checkpoints: StoredCheckpoint[] = [];
  for (const treeSize of checkpointSizes) {
    const rootHash = roots[treeSize];
    if (!rootHash) throw new RangeError(`tree size ${treeSize} is not one of the fixture's`);
    checkpoints.push({
      treeSize,
      note: await signCheckpoint({ origin: key.origin, treeSize, rootHash }, key.signer),
    });
  }
  return { origin: key.origin, entries, checkpoints };
}

/** The witness's signature added to a signed note, as a sequencer cosigns the other log's checkpoint. */
export async function cosign(note: string, witness: NoteSigner): Promise<string> {
  const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
  const signed = await signNote(text, witness);
  return `${note}${signed.slice(text.length + 1)}`;
}

/** `log`'s checkpoint of `treeSize`, cosigned by `witness`'s key under its witness name. */
export async function cosignedCheckpoint(
  log: FixtureLog,
  treeSize: number,
  witness: LogKey,
): Promise<CosignedCheckpoint> {
  const checkpoint = log.checkpoints.find((candidate) => candidate.treeSize === treeSize);
  if (!checkpoint) throw new Error(`the fixture log has no checkpoint of size ${treeSize}`);
  return { origin: log.origin, treeSize, note: await cosign(checkpoint.note, witness.witness) };
}

/** The parts `ledgerExportContents` would yield for the log, entries in pages of `pageSize`. */
export async function* fixtureExportParts(
  log: FixtureLog,
  cosigned: CosignedCheckpoint[] = [],
  pageSize = 6,
): AsyncGenerator<LedgerExportPart> {
  yield { kind: 'checkpoints', checkpoints: log.checkpoints };
  yield { kind: 'cosigned', cosigned };
  for (let from = 0; from < log.entries.length; from += pageSize) {
    yield { kind: 'entries', entries: log.entries.slice(from, from + pageSize) };
  }
}

/** The log as an in-memory export (no directory): checkpoints named `<size>.note` in the given order. */
export function fixtureContents(log: FixtureLog): LedgerExportContents {
  return {
    origin: log.origin,
    entries: Buffer.from(log.entries.map((entry) => `${entry.entry}\n`).join(''), 'utf8'),
    leafHashes: Buffer.concat(log.entries.map((entry) => Buffer.from(entry.leafHash, 'hex'))),
    checkpoints: log.checkpoints.map(({ treeSize, note }) => ({ name: `${treeSize}.note`, note })),
  };
}
