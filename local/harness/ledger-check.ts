import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type LogExport, readLedgerExport, writeLedgerExport } from '../../cli/ledger-export-directory';
import type { LocalLedgers } from './local-ledgers';
import type { IntegrationResult } from '../../lambdas/core/ledger/ledger';
import { archiveDiscrepancies } from '../../lambdas/core/ledger/ledger-export';
import { verifyLedgerExports } from '../../lambdas/core/ledger/verify-ledgers';
import type { WitnessOutcome } from '../../lambdas/core/ledger/witness';

export interface LedgerLogCheck {
  readonly region: string;
  readonly origin: string;
  readonly entries: number;
  /** Requests the sequencer refused (each recorded in the ledger with its reason). */
  readonly quarantined: number;
  /** How this region's witness last saw the other region's log. */
  readonly witness: WitnessOutcome;
}

export interface LedgerCheck {
  /** Every entry of both logs, every signature and cosignature checked by the offline verifier. */
  readonly verified: boolean;
  readonly entries: number;
  readonly logs: readonly LedgerLogCheck[];
  readonly problem?: string;
}

/**
 * The deployed sequencers' minute, on both regions at once: each integrates what was appended and
 * signs, then witnesses the other region's log, then runs again (a sequencer's own records, a
 * quarantine or a contradiction, are integrated by the run after the one that wrote them).
 */
export async function runSequencers(ledgers: LocalLedgers): Promise<{ primary: RegionRun; dr: RegionRun }> {
  const first = [await ledgers.primary.ledger.integrate(), await ledgers.dr.ledger.integrate()] as const;
  const witnesses = [
    await ledgers.primary.witness.witness(ledgers.dr.asWitnessed),
    await ledgers.dr.witness.witness(ledgers.primary.asWitnessed),
  ] as const;
  const second = [await ledgers.primary.ledger.integrate(), await ledgers.dr.ledger.integrate()] as const;
  const run = (i: 0 | 1): RegionRun => ({
    integration: { ...second[i], quarantined: [...first[i].quarantined, ...second[i].quarantined] },
    witness: witnesses[i],
  });
  return { primary: run(0), dr: run(1) };
}

export interface RegionRun {
  readonly integration: IntegrationResult;
  readonly witness: WitnessOutcome;
}

/**
 * The DR region's sequencer alone, as it runs while the primary region is down: it integrates its
 * own log and fails to reach the primary's.
 */
export async function runDrSequencer(ledgers: LocalLedgers): Promise<RegionRun> {
  const integration = await ledgers.dr.ledger.integrate();
  return { integration, witness: await ledgers.dr.witness.witness(ledgers.primary.asWitnessed) };
}

/** Both local logs as an export takes them, with where each table disagrees with its archive. */
export function localLogExports(ledgers: LocalLedgers): Promise<LogExport[]> {
  return Promise.all(
    [ledgers.primary, ledgers.dr].map(async (region) => ({
      origin: region.origin,
      publicKeyPem: region.publicKeyPem,
      verifierKey: region.verifierKey,
      parts: region.ledger.exportContents(),
      problems: await archiveDiscrepancies({ store: region.store, archive: region.archive }),
    })),
  );
}

/**
 * What an auditor would do after a drill: let both sequencers run (each witnessing the other),
 * export both logs and verify the export offline with nothing but the two pinned keys.
 */
export async function integrateAndVerify(ledgers: LocalLedgers): Promise<LedgerCheck> {
  const { primary, dr } = await runSequencers(ledgers);
  const directory = mkdtempSync(path.join(os.tmpdir(), 'aor-drill-ledger-'));
  try {
    const summary = await writeLedgerExport(directory, await localLogExports(ledgers));
    const result = verifyLedgerExports({
      ...readLedgerExport(directory),
      verifierKeys: [ledgers.primary.verifierKey, ledgers.dr.verifierKey],
    });
    const quarantined = primary.integration.quarantined.length + dr.integration.quarantined.length;
    const logs = [
      { region: ledgers.primary, run: primary },
      { region: ledgers.dr, run: dr },
    ].map(({ region, run }) => ({
      region: region.region,
      origin: region.origin,
      entries: run.integration.treeSize,
      quarantined: run.integration.quarantined.length,
      witness: run.witness,
    }));
    const problems = [
      ...summary.logs.flatMap((log) => log.problems),
      ...(result.ok ? [] : [result.problem]),
      ...(quarantined > 0 ? [`${quarantined} audit records were quarantined`] : []),
    ];
    return {
      verified: result.ok && problems.length === 0,
      entries: logs.reduce((sum, log) => sum + log.entries, 0),
      logs,
      ...(problems.length > 0 && { problem: problems.join('; ') }),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
