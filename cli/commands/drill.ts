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
        if (last.status !== 'SUCCEEDED') failed++;
      }
      if (last) {
        const { entries, verified, problem } = last.ledger;
        console.log(
          verified
            ? `\nledger: ${entries} entries in ${stateDirectory()}/ledger, exported and verified against its public key`
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
  console.log(
    `    ledger: ${report.ledger.entries} entries, ${report.ledger.verified ? 'verified' : `NOT verified: ${report.ledger.problem}`}`,
  );
}
