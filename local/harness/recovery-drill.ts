import { DynamoDbRecoveryRunStore } from '../../lambdas/adapters/aws/dynamodb-recovery-run-store';
import type { RecoveryMode, RecoveryType } from '../../lambdas/core/recovery/recovery';
import { RUNS_SUBJECT_INDEX } from '../../lambdas/core/recovery/recovery-contract';
import { DRILL_APPROVER, DRILL_STARTER, type DrillApproval } from './drill-people';
import { RecoveryService } from '../../lambdas/core/recovery/recovery-service';
import type { RecoveryRunRecord, RecoveryStepRecord } from '../../lambdas/core/recovery/run-store';
import { inClusterValidation } from '../../lambdas/core/recovery/validation';
import { createRecoveryStepHandler } from '../../lambdas/handlers/recovery/step';
import {
  RECOVERY_STATE_MACHINE_NAME,
  recoverySettings,
} from '../../lib/constructs/disaster-recovery-workflow';
import { WORKFLOW_WRITERS } from '../../lambdas/core/ledger/ledger-contract';
import type { WitnessOutcome } from '../../lambdas/core/ledger/witness';
import { SimulatedPlatform } from '../simulation/platform';
import { regionOutage } from '../simulation/region-outage';
import type { RecoveryStep } from '../simulation/recovery-faults';
import { lambdaErrorMessage } from '../../lambdas/shared/lambda-error';
import { SimulatedClock } from '../workflow/clock';
import { runWorkflow, type WorkflowRun } from '../workflow/runner';
import type { TaskContext } from '../workflow/task-bindings';
import { lambdaContext } from './incident-task-handlers';
import { integrateAndVerify, type LedgerCheck, runDrSequencer } from './ledger-check';
import { openLocalState } from './local-state';
import { synthesizedAor } from './synthesized-app';

export const LOCAL_RUNS_TABLE = 'aor-recovery-runs';
/** How long the simulated operator takes to answer an approval request. */
const APPROVAL_RESPONSE_MS = 4 * 60_000;

export interface RecoveryDrillOptions {
  readonly dryRun: boolean;
  readonly recoveryType?: RecoveryType;
  readonly backupDate?: string;
  /** How the database comes back; the deployment's `disasterRecovery.recoveryMode` when absent. */
  readonly mode?: RecoveryMode;
  /** A step to make fail, as a real outage of that step would. */
  readonly fail?: RecoveryStep;
  /**
   * Who answers a real run's routing approval (simulated people, each under their own user id):
   * `approve` (someone other than the starter, after a few minutes; the default), `reject`,
   * `starter-only` (only the starter approves, which does not count: the approval times out),
   * `none` (nobody answers).
   */
  readonly approval?: DrillApproval;
  /**
   * The primary region is down for the whole run: its ledger and Route 53's control plane (homed
   * there) do not answer. The ledger check afterwards is made once the region is back.
   */
  readonly primaryDown?: boolean;
  /**
   * The DR site to run against: a test's, arranged beforehand, or shared by runs one after the
   * other (its clock must not go back). A fresh simulated site at `start` by default.
   */
  readonly platform?: SimulatedPlatform;
  /** Instead of a recovery, `aor dr abandon <run>`: the workflow removes what that failed real run kept. */
  readonly abandon?: string;
  readonly stateDirectory: string;
  readonly persist?: boolean;
  readonly start?: Date;
}

export interface RecoveryDrillReport {
  readonly workflow: 'disaster-recovery';
  readonly status: WorkflowRun['status'];
  readonly error?: { error: string; cause: string };
  readonly request: Record<string, unknown>;
  /** How the database came back: the request's mode, or the deployment's. */
  readonly mode: RecoveryMode;
  /** What the ops channel was told during the run, in order. */
  readonly notifications: { readonly subject: string; readonly message: string }[];
  readonly steps: {
    state: string;
    scope: string;
    status: string;
    startedAtMs: number;
    durationMs: number;
    error?: string;
  }[];
  readonly transitions: number;
  /** Simulated milliseconds of the whole run: the recovery time achieved. */
  readonly durationMs: number;
  /** Each restore branch and the parallel restore: the critical path is the longer branch, not the sum. */
  readonly criticalPath: { database: number; blockchain: number; restoreData: number } | null;
  readonly measurement: Record<string, unknown> | null;
  readonly run: RecoveryRunRecord | null;
  /** What the compensation of a failed run removed. */
  readonly compensation: Record<string, unknown> | null;
  readonly recordedSteps: RecoveryStepRecord[];
  readonly routing: { before: string | undefined; after: string | undefined };
  /** The primary region's outage, when the drill had one, and how the DR region's witness saw it. */
  readonly outage: { readonly description: string; readonly witnessDuringOutage: WitnessOutcome } | null;
  readonly ledger: LedgerCheck;
}

/**
 * Runs the synthesized disaster recovery state machine locally against a simulated DR site: RDS
 * restores that take their real minutes, the blockchain restore Job, the application rollout,
 * in-cluster validation Jobs and Route 53, all on simulated time, then verifies the ledger.
 */
export async function runRecoveryDrill(options: RecoveryDrillOptions): Promise<RecoveryDrillReport> {
  const synth = synthesizedAor();
  const settings = recoverySettings(synth.config);
  const approval = options.approval ?? 'approve';
  const state = await openLocalState(options.stateDirectory, { persist: options.persist ?? true });
  await state.dynamo.ensureTable(LOCAL_RUNS_TABLE, [RUNS_SUBJECT_INDEX]);
  try {
    const start = options.start ?? new Date();
    const clock = new SimulatedClock(start);
    const platform =
      options.platform ?? SimulatedPlatform.phoenixRooivalkDrSite({ epoch: clock.now(), seed: 'dr-drill' });
    const noticesBefore = platform.outbox('ops-team').length;
    if (options.fail) platform.failRecoveryStep(options.fail);
    const outage = options.primaryDown ? regionOutage(platform, synth.config.primaryRegion) : undefined;
    if (outage) state.ledgers.setRegionReachable(synth.config.primaryRegion, false);
    const runs = new DynamoDbRecoveryRunStore(state.dynamo.documentClient, LOCAL_RUNS_TABLE);
    const fn = synth.stacks.disasterRecovery.workflow.step;
    let runId = options.abandon;
    let compensation: Record<string, unknown> | null = null;
    const handler = async (input: unknown, task: TaskContext) => {
      const ports = platform.ports(task.clock);
      const recoveryPorts = {
        ...ports,
        runs,
        // The DR run records in the DR region's own ledger: the primary region may be the one that failed.
        trail: state.ledgers.dr.appender(WORKFLOW_WRITERS.disasterRecovery),
        clock: () => new Date(task.clock.now()),
      };
      const result = await createRecoveryStepHandler(() => ({
        recovery: new RecoveryService(recoveryPorts, settings),
        validate: inClusterValidation(recoveryPorts, settings),
      }))(input, lambdaContext(fn.node.path, task.clock, 15 * 60_000));
      // The run's id, for the report: a failed execution has no output to read it from.
      const operation = (input as { operation?: string }).operation;
      if (operation === 'begin') runId = (result as { runId: string }).runId;
      if (operation === 'compensate') compensation = result as Record<string, unknown>;
      return result;
    };
    // The people, simulated: each writes their decision under their own user id, as `aor dr
    // approve|reject` does, a few minutes after the request (the workflow polls for it).
    const decide = async (input: { run: { runId: string }; requestedAt: string }, now: number) => {
      if (now - Date.parse(input.requestedAt) < APPROVAL_RESPONSE_MS) return;
      const at = new Date(now).toISOString();
      const decision = (who: typeof DRILL_APPROVER, decided: 'approve' | 'reject', reason: string) =>
        runs.putApprovalDecision({ runId: input.run.runId, ...who, decision: decided, reason, at });
      if (approval === 'approve') await decision(DRILL_APPROVER, 'approve', 'DR site validated');
      if (approval === 'reject') await decision(DRILL_APPROVER, 'reject', 'DR site not wanted yet');
      if (approval === 'starter-only') await decision(DRILL_STARTER, 'approve', 'my own run');
    };
    const stepWithPeople = async (input: unknown, task: TaskContext) => {
      const operation = (input as { operation?: string }).operation;
      if (operation === 'check-approval') await decide(input as never, task.clock.now());
      return handler(input, task);
    };
    const routedTarget = () =>
      platform.route53Record(settings.routing.hostedZoneId, settings.routing.recordName)?.value;
    const routingBefore = routedTarget();
    const recovery = {
      drSite: synth.config.drRegion,
      recoveryType: options.recoveryType ?? 'full',
      backupDate: options.backupDate ?? 'latest',
      dryRun: options.dryRun,
      ...(options.mode !== undefined && { mode: options.mode }),
    };
    const request = options.abandon === undefined ? recovery : { abandon: options.abandon };
    const kind = options.abandon !== undefined ? 'abandon' : options.dryRun ? 'dry-run' : 'recovery';
    const name = `drill-${kind}-${clock.now()}`;
    // The drill's operator starts it as `aor dr start` does: a start request under their own user id.
    if (options.abandon === undefined) {
      await runs.putStartRequest({
        executionName: name,
        ...DRILL_STARTER,
        at: new Date(clock.now()).toISOString(),
      });
    }
    const run = await runWorkflow({
      definition: synth.disasterRecovery.definition,
      input: request,
      taskHandlers: { [synth.disasterRecovery.functionArn(fn)]: stepWithPeople },
      clock,
      context: {
        Execution: {
          Id: `arn:aws-us-gov:states:${synth.config.drRegion}:${synth.config.account}:execution:${RECOVERY_STATE_MACHINE_NAME}:${name}`,
          Name: name,
          StartTime: start.toISOString(),
        },
      },
    });
    const output = run.output as { result?: Record<string, unknown> } | undefined;
    // What the DR region's sequencer does while the primary is down: integrate, and fail to reach it.
    const witnessDuringOutage = outage ? (await runDrSequencer(state.ledgers)).witness : undefined;
    outage?.end();
    state.ledgers.setRegionReachable(synth.config.primaryRegion, true);
    const restoreData = run.steps.find((s) => s.state === 'Restore data');
    const branchTime = (branch: string) =>
      run.steps
        .filter((s) => s.scope[0]?.startsWith(`Restore data: ${branch}`))
        .reduce((end, s) => Math.max(end, s.startedAt + s.durationMs), restoreData?.startedAt ?? 0) -
      (restoreData?.startedAt ?? 0);
    return {
      workflow: 'disaster-recovery',
      status: run.status,
      ...(run.error && { error: run.error }),
      request,
      mode: options.mode ?? settings.recoveryMode,
      notifications: platform
        .outbox('ops-team')
        .slice(noticesBefore)
        .map(({ subject, message }) => ({ subject, message })),
      steps: run.steps.map((step) => ({
        state: step.state,
        scope: step.scope.join(' › '),
        status: step.status,
        startedAtMs: step.startedAt - start.getTime(),
        durationMs: step.durationMs,
        ...(step.error && { error: `${step.error.error}: ${lambdaErrorMessage(step.error.cause)}` }),
      })),
      transitions: run.transitions,
      durationMs: run.durationMs,
      criticalPath: restoreData
        ? {
            database: branchTime('branch 0'),
            blockchain: branchTime('branch 1'),
            restoreData: restoreData.durationMs,
          }
        : null,
      measurement: output?.result ?? null,
      run: runId ? ((await runs.getRun(runId)) ?? null) : null,
      compensation,
      recordedSteps: runId ? await runs.readSteps(runId) : [],
      routing: { before: routingBefore, after: routedTarget() },
      outage: outage && witnessDuringOutage ? { description: outage.description, witnessDuringOutage } : null,
      ledger: await integrateAndVerify(state.ledgers),
    };
  } finally {
    await state.close();
  }
}
