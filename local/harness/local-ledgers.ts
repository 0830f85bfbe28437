import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { consistencyProof, LedgerAppender, SequencedLedger } from '../../lambdas/core/ledger/ledger';
import { ledgerOrigin, witnessName } from '../../lambdas/core/ledger/ledger-contract';
import type { CheckpointArchive, LedgerStore } from '../../lambdas/core/ledger/ports';
import type { WriterRules } from '../../lambdas/core/ledger/request-checks';
import {
  localNoteSigner,
  type NoteSigner,
  signerNamed,
  verifierKey,
} from '../../lambdas/core/ledger/signed-note';
import { LedgerWitness, type WitnessedLog } from '../../lambdas/core/ledger/witness';
import { DirectoryCheckpointArchive } from '../../lambdas/adapters/local/directory-checkpoint-archive';
import { FileLedgerStore } from '../../lambdas/adapters/local/file-ledger-store';
import { EndpointTimeoutError } from '../simulation/region-outage';

/** Checkpoints signed on this machine name it, so they are never mistaken for the deployed ledger's. */
export const LOCAL_LEDGER_DOMAIN = 'localhost';

export interface LocalRegionLedger {
  readonly region: string;
  readonly origin: string;
  readonly store: LedgerStore;
  readonly archive: CheckpointArchive;
  readonly ledger: SequencedLedger;
  readonly signer: NoteSigner;
  readonly publicKeyPem: string;
  /** The c2sp vkey an auditor pins for this log. */
  readonly verifierKey: string;
  /** This region's witness of the other region's log. */
  readonly witness: LedgerWitness;
  /** This log as the other region's witness reads it. */
  readonly asWitnessed: WitnessedLog;
  /** An appender for one writer's namespace, as that writer's IAM role would be. */
  appender(writer: string): LedgerAppender;
}

export interface LocalLedgers {
  readonly primary: LocalRegionLedger;
  readonly dr: LocalRegionLedger;
  /** The vkeys of both logs, one per line: what `aor ledger verify --key` is given. */
  readonly verifierKeysFile: string;
  /** While a region is down, every call to its ledger fails as an unreachable endpoint does. */
  setRegionReachable(region: string, reachable: boolean): void;
}

export interface LocalLedgerOptions {
  readonly primaryRegion: string;
  readonly drRegion: string;
  /** The workflows that write each region's log, as the deployed sequencers are told. */
  readonly workflowWriters: {
    readonly primary: WriterRules['workflows'];
    readonly dr: WriterRules['workflows'];
  };
  readonly clock?: () => Date;
}

/**
 * The ledgers the local drills write to, one per region as deployed, under
 * `<stateDirectory>/ledger/<region>/`: a store, a write-once archive, and a P-256 key made on first
 * use (private key readable by its owner only). Each region's witness cosigns the other's
 * checkpoints, as the deployed sequencers do.
 */
export function openLocalLedgers(stateDirectory: string, options: LocalLedgerOptions): LocalLedgers {
  const root = path.join(stateDirectory, 'ledger');
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const down = new Set<string>();
  const open = (region: string, workflows: WriterRules['workflows']) =>
    openRegion(path.join(root, region), region, workflows, down, options.clock);
  const primary = open(options.primaryRegion, options.workflowWriters.primary);
  const dr = open(options.drRegion, options.workflowWriters.dr);
  const verifierKeysFile = path.join(root, 'verifier-keys.txt');
  writeFileSync(verifierKeysFile, `${primary.verifierKey}\n${dr.verifierKey}\n`);
  return {
    primary,
    dr,
    verifierKeysFile,
    setRegionReachable: (region, reachable) => (reachable ? down.delete(region) : down.add(region)),
  };
}

function openRegion(
  directory: string,
  region: string,
  workflows: WriterRules['workflows'],
  down: ReadonlySet<string>,
  clock?: () => Date,
): LocalRegionLedger {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const origin = ledgerOrigin(region, LOCAL_LEDGER_DOMAIN);
  const privateKeyFile = path.join(directory, 'signing-key.pem');
  const publicKeyFile = path.join(directory, 'public-key.pem');
  if (!existsSync(privateKeyFile)) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  }
  const publicKeyPem = readFileSync(publicKeyFile, 'utf8');
  const signer = localNoteSigner(readFileSync(privateKeyFile, 'utf8'), origin);
  const store = unreachableWhileDown(FileLedgerStore.open(path.join(directory, 'store')), region, down);
  const archive = new DirectoryCheckpointArchive(path.join(directory, 'archive'));
  // One process writes the local ledgers, so no append can arrive late: integrate immediately.
  const ledger = new SequencedLedger({
    store,
    signer,
    origin,
    archive,
    writers: { workflows, localOperators: true },
    settleMs: 0,
    ...(clock && { clock }),
  });
  const vkey = verifierKey(origin, publicKeyPem);
  return {
    region,
    origin,
    store,
    archive,
    ledger,
    signer,
    publicKeyPem,
    verifierKey: vkey,
    witness: new LedgerWitness({
      store,
      archive,
      signer: signerNamed(signer, witnessName(origin)),
      trail: ledger.ownRecords,
      ...(clock && { clock }),
    }),
    asWitnessed: {
      origin,
      latestCheckpoint: () => store.latestCheckpoint(),
      consistencyProof: (oldSize, newSize) => consistencyProof(store, oldSize, newSize),
      verifierKey: async () => {
        if (down.has(region))
          throw new EndpointTimeoutError(`connect ETIMEDOUT kms.${region}.amazonaws.com:443`);
        return vkey;
      },
    },
    appender: (writer) => new LedgerAppender({ store, writer, settleMs: 0, ...(clock && { clock }) }),
  };
}

/** The store, failing every call while its region is down. */
function unreachableWhileDown<T extends object>(store: T, region: string, down: ReadonlySet<string>): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (down.has(region)) {
          return Promise.reject(
            new EndpointTimeoutError(`connect ETIMEDOUT dynamodb.${region}.amazonaws.com:443`),
          );
        }
        return value.apply(target, args);
      };
    },
  });
}
