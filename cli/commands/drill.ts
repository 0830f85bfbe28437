import type { Command } from 'commander';
import {
  ACTIONS,
  type ActionName,
  isPlaybookId,
  PLAYBOOK_IDS,
  PLAYBOOKS,
  type PlaybookId,
} from '../../lambdas/core/incident/playbooks';
import type { IncidentDrillReport } from '../../local/harness/incident-drill';
import type { LedgerCheck } from '../../local/harness/ledger-check';
import { RECOVERY_MODES, type RecoveryMode, type RecoveryType } from '../../lambdas/core/recovery/recovery';
import { DRILL_APPROVALS, type DrillApproval } from '../../local/harness/drill-people';
import type { RecoveryDrillReport } from '../../local/harness/recovery-drill';
import { RECOVERY_STEPS, type RecoveryStep } from '../../local/simulation/recovery-faults';
import { stateDirectory } from '../state';

export class UnknownScenarioError extends Error {
  override name = 'UnknownScenarioError';
}

/** Acknowledged a minute after the first escalation: each drill shows one escalation firing. */
const drillAcknowledgement = (scenario: PlaybookId) => PLAYBOOKS[scenario].escalationSeconds + 60;

export function registerDrillCommands(program: Command): void {
  const drill = program
    .command('drill')
    .description('run the workflows end to end on this machine (simulated platform)');

  drill
    .command('incident')
    .description('an alarm of one playbook through the synthesized incident response state machine')
    .requiredOption('--scenario <playbook>', `one of: ${PLAYBOOK_IDS.join(', ')}`)
    .option('--fail <action>', `make one automated action fail (${ACTIONS.join(', ')})`)
    .option(
      '--ack-after <seconds>',
      'simulated seconds until the on-call acknowledges (default: after the first escalation)',
      Number,
    )
    .option('--no-ack', 'nobody acknowledges: every escalation tier fires')
    .option('--json', 'print the report as JSON')
    .action(
      async (options: {
        scenario: string;
        fail?: string;
        ackAfter?: number;
        ack: boolean;
        json?: boolean;
      }) => {
        if (!isPlaybookId(options.scenario)) {
          throw new UnknownScenarioError(
            `no playbook "${options.scenario}"; one of: ${PLAYBOOK_IDS.join(', ')}`,
          );
        }
        if (options.fail !== undefined && !(ACTIONS as readonly string[]).includes(options.fail)) {
          throw new UnknownScenarioError(`no action "${options.fail}"; one of: ${ACTIONS.join(', ')}`);
        }
        const { runIncidentDrill } = await import('../../local/harness/incident-drill');
        const report = await runIncidentDrill({
          scenario: options.scenario,
          ...(options.fail !== undefined && { fail: options.fail as ActionName }),
          ...(options.ack && {
            acknowledgeAfterSeconds: options.ackAfter ?? drillAcknowledgement(options.scenario),
          }),
          stateDirectory: stateDirectory(),
        });
        if (options.json) console.log(JSON.stringify(jsonReport(report), null, 2));
        else printReport(report);
        if (report.status !== 'SUCCEEDED' || !report.ledger.verified) process.exitCode = 1;
      },
    );

  drill
    .command('dr')
    .description('a disaster recovery run through the synthesized state machine, against a simulated DR site')
    .option('--dry-run', 'restore into drill-suffixed targets, clean them up, never switch routing')
    .option('--fail <step>', `make one step fail (${RECOVERY_STEPS.join(', ')})`)
    .option('--recovery-type <type>', 'full, data-only or applications-only', 'full')
    .option('--backup-date <date>', 'latest or YYYY-MM-DD', 'latest')
    .option(
      '--mode <mode>',
      `how the database comes back: ${RECOVERY_MODES.join(' or ')} (the deployment's disasterRecovery.recoveryMode by default)`,
    )
    .option(
      '--approval <who>',
      `who answers a real run's routing approval: ${DRILL_APPROVALS.join(', ')} (someone other than the starter approves)`,
      'approve',
    )
    .option(
      '--primary-down',
      "the primary region is down for the whole run: its ledger and Route 53's control plane do not answer",
    )
    .option('--json', 'print the report as JSON')
    .action(
      async (options: {
        dryRun?: boolean;
        fail?: string;
        recoveryType: string;
        backupDate: string;
        mode?: string;
        approval: string;
        primaryDown?: boolean;
        json?: boolean;
      }) => {
        if (options.fail !== undefined && !(RECOVERY_STEPS as readonly string[]).includes(options.fail)) {
          throw new UnknownScenarioError(`no step "${options.fail}"; one of: ${RECOVERY_STEPS.join(', ')}`);
        }
        if (options.mode !== undefined && !(RECOVERY_MODES as readonly string[]).includes(options.mode)) {
          throw new UnknownScenarioError(`no mode "${options.mode}"; one of: ${RECOVERY_MODES.join(', ')}`);
        }
        if (!(DRILL_APPROVALS as readonly string[]).includes(options.approval)) {
          throw new UnknownScenarioError(
            `no approval "${options.approval}"; one of: ${DRILL_APPROVALS.join(', ')}`,
          );
        }
        const { runRecoveryDrill } = await import('../../local/harness/recovery-drill');
        const report = await runRecoveryDrill({
          dryRun: options.dryRun ?? false,
          recoveryType: options.recoveryType as RecoveryType,
          backupDate: options.backupDate,
          ...(options.mode !== undefined && { mode: options.mode as RecoveryMode }),
          ...(options.fail !== undefined && { fail: options.fail as RecoveryStep }),
          approval: options.approval as DrillApproval,
          ...(options.primaryDown && { primaryDown: true }),
          stateDirectory: stateDirectory(),
        });
        if (options.json) console.log(JSON.stringify(report, null, 2));
        else printRecovery(report);
        // A real run stops without an approval by someone other than its starter.
        const approved = options.dryRun || options.approval === 'approve';
        const expected = options.fail === undefined && approved ? 'SUCCEEDED' : 'FAILED';
        if (report.status !== expected || !report.ledger.verified) process.exitCode = 1;
      },
    );

  drill
    .command('all')
    .description('every incident playbook, then the ledger verified (what `npm start` runs)')
    .action(async () => {
      // Loaded on use: the drills synthesize the CDK app, which other commands have no need of.
      const { runIncidentDrill } = await import('../../local/harness/incident-drill');
      let failed = 0;
      let last: IncidentDrillReport | undefined;
      for (const scenario of PLAYBOOK_IDS) {
        last = await runIncidentDrill({
          scenario,
          acknowledgeAfterSeconds: drillAcknowledgement(scenario),
          stateDirectory: stateDirectory(),
        });
        printReport(last);
        if (last.status !== 'SUCCEEDED' || !last.ledger.verified) failed++;
      }
      const { runRecoveryDrill } = await import('../../local/harness/recovery-drill');
      const recovery = await runRecoveryDrill({ dryRun: true, stateDirectory: stateDirectory() });
      printRecovery(recovery);
      if (recovery.status !== 'SUCCEEDED') failed++;
      if (last) {
        const { entries, verified, problem } = recovery.ledger;
        console.log(
          verified
            ? `\nledger: ${entries} entries in the two regions' logs under ${stateDirectory()}/ledger, each witnessed by the other, exported and verified against the pinned keys`
            : `\nledger: VERIFICATION FAILED: ${problem}`,
        );
        if (!verified) failed++;
      }
      if (failed > 0) process.exitCode = 1;
    });
}

/** The report's documented JSON shape: workflow, status, steps, incident, ledger (and more). */
function jsonReport(report: IncidentDrillReport) {
  return {
    workflow: report.workflow,
    scenario: report.scenario,
    status: report.status,
    ...(report.error && { error: report.error }),
    transitions: report.transitions,
    durationMs: report.durationMs,
    steps: report.steps.map(({ state, status, durationMs, scope }) => ({
      state,
      status,
      durationMs,
      ...(scope && { scope }),
    })),
    incident: report.incident,
    notifications: report.notifications,
    ...(report.recovery && { recovery: report.recovery }),
    ledger: report.ledger,
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

const MARK: Record<string, string> = { SUCCEEDED: '✓', FAILED: '✗', CAUGHT: '↷', RETRIED: '↻', ABORTED: '■' };

function printReport(report: IncidentDrillReport): void {
  const incident = report.incident;
  console.log(
    `\n▶ incident drill: ${report.scenario}${incident ? ` → ${incident.id} (${incident.severity}, ${incident.playbook})` : ''}`,
  );
  // Parallel branches interleave: in start order, the timeline reads as it happened.
  const inOrder = [...report.steps].sort((a, b) => a.startedAtMs - b.startedAtMs);
  for (const step of inOrder) {
    const where = step.scope ? `${step.scope} › ` : '';
    const line = `  +${seconds(step.startedAtMs).padStart(7)}  ${MARK[step.status] ?? '?'} ${where}${step.state}`;
    console.log(
      `${line.padEnd(78)} ${seconds(step.durationMs).padStart(7)}${step.error ? `  ${step.error.slice(0, 90)}` : ''}`,
    );
  }
  console.log(
    `  ${report.status} in ${seconds(report.durationMs)} simulated, ${report.transitions} state transitions, ${report.notifications.length} notifications`,
  );
  if (incident) {
    const actions = incident.timeline.filter(
      (e) => e.type === 'action-succeeded' || e.type === 'action-failed',
    );
    for (const event of actions)
      console.log(`    ${event.type === 'action-failed' ? '✗' : '✓'} ${event.message}`);
    const escalations = incident.timeline.filter((e) => e.type === 'escalated').map((e) => e.message);
    if (escalations.length > 0) console.log(`    escalations: ${escalations.join('; ')}`);
    console.log(
      `    incident ${incident.id}: ${incident.status}${incident.timeToResolveSeconds !== undefined ? `, resolved after ${incident.timeToResolveSeconds}s` : ''}${incident.acknowledgedBy ? `, acknowledged by ${incident.acknowledgedBy}` : ''}`,
    );
  }
  printLedger(report.ledger);
}

function printRecovery(report: RecoveryDrillReport): void {
  const request = report.request as { recoveryType: string; backupDate: string; dryRun: boolean };
  console.log(
    `\n▶ disaster recovery drill: ${request.recoveryType}, ${report.mode}, backup ${request.backupDate}${request.dryRun ? ', dry run' : ''}`,
  );
  const inOrder = [...report.steps].sort((a, b) => a.startedAtMs - b.startedAtMs);
  for (const step of inOrder) {
    if (step.state.startsWith('Wait for') || step.state.endsWith('ready?')) continue;
    const where = step.scope ? `${step.scope} › ` : '';
    const line = `  +${seconds(step.startedAtMs).padStart(8)}  ${MARK[step.status] ?? '?'} ${where}${step.state}`;
    console.log(
      `${line.padEnd(82)} ${seconds(step.durationMs).padStart(8)}${step.error ? `  ${step.error.slice(0, 90)}` : ''}`,
    );
  }
  console.log(
    `  ${report.status} in ${seconds(report.durationMs)} simulated, ${report.transitions} state transitions (polls and waits not listed above)`,
  );
  if (report.criticalPath) {
    const { database, blockchain, restoreData } = report.criticalPath;
    console.log(
      `    restore in parallel: database ${seconds(database)}, blockchain data ${seconds(blockchain)} → ${seconds(restoreData)} (the longer, not the sum)`,
    );
  }
  for (const step of report.recordedSteps) {
    console.log(
      `    ${step.step.padEnd(24)} ${seconds(Date.parse(step.finishedAt) - Date.parse(step.startedAt)).padStart(8)}`,
    );
  }
  const m = report.measurement as {
    rtoSeconds?: number;
    rpoSeconds?: number | null;
    rtoMet?: boolean;
    rpoMet?: boolean | null;
    drillPreparationSeconds?: number;
  } | null;
  if (m?.rtoSeconds !== undefined) {
    console.log(
      `    RTO achieved ${m.rtoSeconds}s (objective 900s: ${m.rtoMet ? 'met' : 'MISSED'}); RPO achieved ${m.rpoSeconds ?? 'n/a'}s (objective 300s: ${m.rpoMet === null ? 'n/a' : m.rpoMet ? 'met' : 'MISSED'})`,
    );
    if (m.drillPreparationSeconds)
      console.log(
        `    not in the RTO: ${m.drillPreparationSeconds}s making the drill's twin of the standby (a real run promotes the standby itself)`,
      );
  }
  if (report.run?.status === 'failed')
    console.log(`    failed at ${report.run.failedStep}: ${report.run.error}; compensated`);
  console.log(
    `    routing ${report.routing.before} → ${report.routing.after}${report.routing.before === report.routing.after ? ' (untouched)' : ''}`,
  );
  if (report.outage) {
    const seen = report.outage.witnessDuringOutage;
    console.log(`    outage: ${report.outage.description}; the DR region's witness found it ${seen.status}`);
  }
  printLedger(report.ledger);
}

function printLedger(ledger: LedgerCheck): void {
  console.log(
    `    ledger: ${ledger.entries} entries, ${ledger.verified ? 'verified' : `NOT verified: ${ledger.problem}`}`,
  );
  for (const log of ledger.logs) {
    const witness = log.witness;
    const seen =
      witness.status === 'cosigned' || witness.status === 'up-to-date'
        ? `${witness.status} its ${witness.treeSize} entries`
        : witness.status === 'nothing-to-witness'
          ? 'nothing to witness yet'
          : `${witness.status}: ${witness.reason}`;
    console.log(`      ${log.region}: ${log.entries} entries; witness of the other region: ${seen}`);
  }
}
