import { generateKeyPairSync, hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readLedgerExport, writeLedgerExport } from '../../cli/ledger-export-directory';
import { DirectoryCheckpointArchive } from '../../lambdas/adapters/local/directory-checkpoint-archive';
import { MemoryLedgerStore } from '../../lambdas/adapters/local/memory-ledger-store';
import type { AuditRecord } from '../../lambdas/core/ledger/audit-record';
import { LedgerAppender, SequencedLedger } from '../../lambdas/core/ledger/ledger';
import { WORKFLOW_WRITERS } from '../../lambdas/core/ledger/ledger-contract';
import { localNoteSigner, type NoteSigner, verifierKey } from '../../lambdas/core/ledger/signed-note';
import { verifyLedgerExports } from '../../lambdas/core/ledger/verify-ledgers';

export interface LedgerBenchResult {
  readonly entries: number;
  readonly appendPerSec: number;
  readonly integratePerSec: number;
  readonly exportPerSec: number;
  readonly verifyPerSec: number;
  readonly sha256PerSec: number;
  /** Bytes of an inclusion proof for the middle entry of the tree. */
  readonly proofBytes: number;
  /** The limit for it: 32·⌈log2 n⌉. */
  readonly proofBytesLimit: number;
  /** KMS (here: local) signatures the whole integration needed. */
  readonly signatures: number;
  readonly targets: { readonly verify: boolean; readonly integrate: boolean; readonly proofSize: boolean };
}

const ORIGIN = 'bench.localhost/aor/audit-ledger';
const EXECUTIONS = 'arn:aws-us-gov:states:us-gov-west-1:123456789012:execution:aor-incident-response:';

/** Wraps a signer to count its signatures: the ledger must sign once per batch, never per entry. */
export function countingSigner(inner: NoteSigner): { signer: NoteSigner; signatures: () => number } {
  let count = 0;
  return {
    signer: {
      keyName: inner.keyName,
      publicKeySpkiDer: inner.publicKeySpkiDer,
      sign: (message) => {
        count += 1;
        return inner.sign(message);
      },
    },
    signatures: () => count,
  };
}

/** A realistic audit record: what an incident action writes. */
function record(i: number): AuditRecord {
  return {
    action: 'kubernetes.rollout-restart',
    target: { type: 'kubernetes/statefulset', id: `phoenix-rooivalk/blockchain-node-${i % 7}` },
    actor: {
      type: 'workflow',
      id: 'AorIncidentResponse',
      execution: `${EXECUTIONS}INC-20261123-${(i % 10_000).toString().padStart(4, '0')}`,
      state: 'Restart blockchain node',
    },
    occurredAt: new Date(Date.UTC(2026, 10, 23, 0, 0, 0, i)).toISOString(),
    outputs: { generation: i, rolledOut: true, durationMs: 41_250 },
    outcome: 'succeeded',
    incidentId: `INC-20261123-${(i % 10_000).toString().padStart(4, '0')}`,
  };
}

function perSecond(count: number, startedAt: bigint): number {
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  return Math.round(count / seconds);
}

/** The machine's raw SHA-256 rate on 64-byte inputs (one node hash's worth), over about a second. */
export function measureSha256PerSec(): number {
  const input = new Uint8Array(64).fill(7);
  let count = 0;
  const started = process.hrtime.bigint();
  const deadline = started + 1_000_000_000n;
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < 10_000; i++) hash('sha256', input, 'buffer');
    count += 10_000;
  }
  return perSecond(count, started);
}

/**
 * Appends `entries` records through the ledger core, integrates them (every request re-checked,
 * one signature per run), exports them to a temporary directory and verifies the export offline,
 * timing each phase.
 */
export async function benchLedger(
  entries: number,
  log: (line: string) => void = () => {},
): Promise<LedgerBenchResult> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const baseSigner = localNoteSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), ORIGIN);
  const { signer, signatures } = countingSigner(baseSigner);
  const store = new MemoryLedgerStore();
  const directory = mkdtempSync(path.join(os.tmpdir(), 'aor-bench-ledger-'));
  let tick = Date.UTC(2026, 10, 23);
  // Strictly increasing receive times, as the many appends of a real day would have.
  const clock = () => {
    tick += 1;
    return new Date(tick);
  };
  const writer = WORKFLOW_WRITERS.incidentResponse;
  const appender = new LedgerAppender({ store, writer, clock, settleMs: 0 });
  const ledger = new SequencedLedger({
    store,
    signer,
    origin: ORIGIN,
    archive: new DirectoryCheckpointArchive(path.join(directory, 'archive')),
    writers: { workflows: { [writer]: EXECUTIONS } },
    settleMs: 0,
    clock,
    batchSize: 10_000,
    maxBatchesPerRun: Number.MAX_SAFE_INTEGER,
  });

  log(`appending ${entries} entries`);
  let started = process.hrtime.bigint();
  for (let i = 0; i < entries; i++) await appender.append(record(i), `bench-${i}`);
  const appendPerSec = perSecond(entries, started);

  log('integrating');
  started = process.hrtime.bigint();
  const integration = await ledger.integrate();
  const integratePerSec = perSecond(integration.integrated, started);

  const revision = await ledger.getRevision(Math.floor(entries / 2));
  const proofBytes = revision.inclusionProof.length * 32;

  try {
    log('exporting');
    started = process.hrtime.bigint();
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const vkey = verifierKey(ORIGIN, publicKeyPem);
    const exported = path.join(directory, 'export');
    await writeLedgerExport(exported, [
      { origin: ORIGIN, publicKeyPem, verifierKey: vkey, parts: ledger.exportContents() },
    ]);
    const exportPerSec = perSecond(entries, started);

    log('verifying');
    const contents = readLedgerExport(exported);
    started = process.hrtime.bigint();
    const verification = verifyLedgerExports({ ...contents, verifierKeys: [vkey] });
    const verifyPerSec = perSecond(entries, started);
    if (!verification.ok) throw new Error(`benchmark export failed verification: ${verification.problem}`);

    log('measuring raw SHA-256');
    const sha256PerSec = measureSha256PerSec();
    const proofBytesLimit = 32 * Math.ceil(Math.log2(entries));
    return {
      entries,
      appendPerSec,
      integratePerSec,
      exportPerSec,
      verifyPerSec,
      sha256PerSec,
      proofBytes,
      proofBytesLimit,
      signatures: signatures(),
      targets: {
        verify: verifyPerSec * 2 >= sha256PerSec / 3,
        integrate: integratePerSec >= 100_000,
        proofSize: proofBytes <= proofBytesLimit,
      },
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
