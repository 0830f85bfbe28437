/**
 * What a recovery run tells the ops channel (the DR region's own topic: the primary region's may be
 * the one that is down), at each turn a person may need to act on: it started, it waits for an
 * approval, it finished, it failed. Each says what happened and what to do next.
 */
import type { Notification } from '../operations/ports';
import type { RecoveryMeasurement, RecoveryPlan, RecoveryRequest } from './recovery';
import { DR_STACK_NAME } from './recovery-contract';

interface NoticeRun {
  readonly runId: string;
  readonly request: RecoveryRequest;
  readonly plan: RecoveryPlan;
  readonly starter: { readonly principalArn: string } | null;
}

/** What a failed or abandoned run left in the DR site, or removed from it. */
export interface SiteInventory {
  readonly database: string | null;
  readonly objects: readonly string[];
  /** Why a thing was kept: never deleted because it is not this run's, or a real run's restore kept on purpose. */
  readonly notes: readonly string[];
}

const STACK = `--stack ${DR_STACK_NAME}`;

function describe(run: NoticeRun): string {
  const { recoveryType, backupDate, dryRun } = run.request;
  return `${recoveryType} recovery, backup ${backupDate}, ${run.plan.databaseMode} mode${dryRun ? ', DRY RUN' : ''}`;
}

function notice(run: NoticeRun, kind: string, subject: string, lines: readonly string[]): Notification {
  return {
    subject: `[DR] ${run.runId} ${subject}`,
    message: [...lines, '', `Follow it: aor dr watch ${run.runId} ${STACK}`].join('\n'),
    attributes: { runId: run.runId, kind, dryRun: String(run.request.dryRun) },
  };
}

export function runStarted(run: NoticeRun): Notification {
  return notice(run, 'dr-started', `started: ${describe(run)}`, [
    `Disaster recovery run ${run.runId} started: ${describe(run)}.`,
    run.starter
      ? `Started by ${run.starter.principalArn}.`
      : 'Started without `aor dr start`, so nobody is named as its starter: its routing switch needs two approvers.',
  ]);
}

export function approvalRequested(
  run: NoticeRun,
  routing: { readonly recordName: string; readonly drTarget: string },
  needed: number,
  timeoutSeconds: number,
): Notification {
  return notice(run, 'dr-approval', `awaits approval to switch ${routing.recordName}`, [
    `Disaster recovery run ${run.runId} has restored and validated the DR site.`,
    `It will send ${routing.recordName} to ${routing.drTarget} once ${needed === 1 ? 'someone other than its starter approves' : 'two different people approve'}.`,
    `Without an answer in ${Math.round(timeoutSeconds / 60)} minutes it stops, keeping what it restored.`,
    '',
    `Approve: aor dr approve ${run.runId} ${STACK}`,
    `Reject:  aor dr reject ${run.runId} ${STACK} --reason "<why>"`,
  ]);
}

export function runSucceeded(
  run: NoticeRun,
  measurement: RecoveryMeasurement,
  switched: { readonly recordName: string; readonly drTarget: string } | null,
): Notification {
  const rpo = measurement.rpoSeconds === null ? 'not measured' : `${measurement.rpoSeconds} s`;
  return notice(run, 'dr-succeeded', `recovered${run.request.dryRun ? ' (dry run, cleaned up)' : ''}`, [
    `Disaster recovery run ${run.runId} finished: ${describe(run)}.`,
    `RTO ${measurement.rtoSeconds} s (${measurement.rtoMet ? 'met' : 'MISSED'}); RPO ${rpo} (${measurement.rpoMet === null ? 'n/a' : measurement.rpoMet ? 'met' : 'MISSED'}).`,
    switched
      ? `${switched.recordName} now answers ${switched.drTarget}. The recovered database ${run.plan.database.identifier} is protected from deletion.`
      : 'Routing was not touched.',
  ]);
}

export function runFailed(
  run: NoticeRun,
  failedStep: string,
  error: string,
  traffic: string,
  inventory: SiteInventory,
  removed: boolean,
): Notification {
  const what = [...(inventory.database ? [`database ${inventory.database}`] : []), ...inventory.objects];
  const left = what.length === 0 ? 'nothing' : what.join(', ');
  return notice(run, 'dr-failed', `FAILED at ${failedStep}`, [
    `Disaster recovery run ${run.runId} failed at ${failedStep}: ${error}`,
    traffic,
    removed ? `Removed what the dry run created: ${left}.` : `Kept what it restored: ${left}.`,
    ...inventory.notes,
    '',
    removed
      ? 'Next: fix the cause and run the drill again.'
      : `Next: a new run refuses what this one kept, so either finish from here by hand, or remove it (aor dr abandon ${run.runId} ${STACK}), fix the cause and start a new run.${run.plan.databaseMode === 'warm-standby' ? ' A standby this run promoted no longer replicates and stays: a new run recovers with --mode snapshot.' : ''}`,
  ]);
}

export function runAbandoned(run: NoticeRun, inventory: SiteInventory): Notification {
  return notice(run, 'dr-abandoned', 'abandoned: what it kept is removed', [
    `What disaster recovery run ${run.runId} kept is removed: ${[...(inventory.database ? [`database ${inventory.database} (a final snapshot first)`] : []), ...inventory.objects].join(', ') || 'nothing'}.`,
    ...inventory.notes,
  ]);
}
