import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readLedgerExport, writeLedgerExport } from '../../cli/ledger-export-directory';
import type { LocalLedger } from '../../lambdas/adapters/local/local-ledger';
import { noteVerifier } from '../../lambdas/core/ledger/signed-note';
import { verifyLedgerExport } from '../../lambdas/core/ledger/verify-export';

export interface LedgerCheck {
  readonly entries: number;
  readonly treeSize: number;
  readonly verified: boolean;
  readonly problem?: string;
}

/**
 * What an auditor would do after a drill: integrate what the drill appended (one signed
 * checkpoint), export the whole local ledger and verify the export offline with the public key.
 */
export async function integrateAndVerify(local: LocalLedger): Promise<LedgerCheck> {
  const integration = await local.ledger.integrate();
  const directory = mkdtempSync(path.join(os.tmpdir(), 'aor-drill-ledger-'));
  try {
    const summary = await writeLedgerExport(
      directory,
      local.origin,
      local.publicKeyPem,
      local.ledger.exportContents(),
    );
    const result = verifyLedgerExport(readLedgerExport(directory), [
      noteVerifier(local.origin, local.publicKeyPem),
    ]);
    return {
      entries: summary.entries,
      treeSize: integration.treeSize,
      verified: result.ok,
      ...(!result.ok && { problem: result.problem }),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
