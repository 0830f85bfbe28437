import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { SequencedLedger } from '../../core/ledger/ledger';
import { localNoteSigner, type NoteSigner } from '../../core/ledger/signed-note';
import { FileLedgerStore } from './file-ledger-store';

/** The origin (and key name) of checkpoints signed on this machine, distinct from the deployed ledger's. */
export const LOCAL_LEDGER_ORIGIN = 'localhost/aor/audit-ledger';

export interface LocalLedger {
  readonly ledger: SequencedLedger;
  readonly store: FileLedgerStore;
  readonly signer: NoteSigner;
  readonly origin: string;
  readonly publicKeyPem: string;
}

/**
 * The ledger the local drills write to, under `<stateDirectory>/ledger/`, signed with a P-256
 * key made on first use and kept beside it (private key readable by its owner only). Every drill
 * adds to the same ledger, as every workflow run adds to the deployed one.
 */
export function openLocalLedger(stateDirectory: string, clock?: () => Date): LocalLedger {
  mkdirSync(stateDirectory, { recursive: true, mode: 0o700 });
  const privateKeyFile = path.join(stateDirectory, 'ledger-signing-key.pem');
  const publicKeyFile = path.join(stateDirectory, 'ledger-public-key.pem');
  if (!existsSync(privateKeyFile)) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  }
  const signer = localNoteSigner(readFileSync(privateKeyFile, 'utf8'), LOCAL_LEDGER_ORIGIN);
  const store = FileLedgerStore.open(path.join(stateDirectory, 'ledger'));
  // One process writes the local ledger, so no append can arrive late: integrate immediately.
  const ledger = new SequencedLedger({ store, signer, origin: LOCAL_LEDGER_ORIGIN, clock, settleMs: 0 });
  return {
    ledger,
    store,
    signer,
    origin: LOCAL_LEDGER_ORIGIN,
    publicKeyPem: readFileSync(publicKeyFile, 'utf8'),
  };
}
