import { DynamoDbIncidentRepository } from '../../lambdas/adapters/aws/dynamodb-incident-repository';
import type { Incident, TimelineEvent } from '../../lambdas/core/incident/incident';
import { IncidentService } from '../../lambdas/core/incident/incident-service';
import type { ActionName, PlaybookId } from '../../lambdas/core/incident/playbooks';
import { localOperatorWriter } from '../../lambdas/core/ledger/ledger-contract';
import { actionSettings, INCIDENT_STATE_MACHINE_NAME } from '../../lib/constructs/incident-response-workflow';
import { SimulatedPlatform } from '../simulation/platform';
import { lambdaErrorMessage } from '../../lambdas/shared/lambda-error';
import { SimulatedClock } from '../workflow/clock';
import { runWorkflow, type WorkflowRun } from '../workflow/runner';
import { alarmStateChangeEvent } from './alarm-events';
import { startScenario } from './incident-scenarios';
import { incidentTaskHandlers } from './incident-task-handlers';
import { integrateAndVerify, type LedgerCheck } from './ledger-check';
import { openLocalState } from './local-state';
import { synthesizedAor } from './synthesized-app';

export interface IncidentDrillOptions {
  readonly scenario: PlaybookId;
  /** An automated action to make fail (its port call throws the error a real outage would). */
  readonly fail?: ActionName;
  /** Simulated seconds after the alarm when the on-call operator acknowledges; never if unset. */
  readonly acknowledgeAfterSeconds?: number;
  /** Send the alarm's return to OK after the response, resolving the incident. */
  readonly recover?: boolean;
  readonly stateDirectory: string;
  /** Keep DynamoDB on disk under the state directory (the CLI) or in memory (tests). */
  readonly persist?: boolean;
  /** When the drill's simulated time starts. */
  readonly start?: Date;
}

export interface DrillStep {
  readonly state: string;
  readonly scope: string;
  readonly status: string;
  readonly startedAtMs: number;
  readonly durationMs: number;
  readonly error?: string;
}

export interface IncidentDrillReport {
  readonly workflow: 'incident-response';
  readonly scenario: PlaybookId;
  readonly status: WorkflowRun['status'];
  readonly error?: { error: string; cause: string };
  readonly steps: DrillStep[];
  readonly transitions: number;
  /** Simulated milliseconds from the alarm to the end of the response. */
  readonly durationMs: number;
  readonly incident: (Incident & { timeline: TimelineEvent[] }) | null;
  readonly notifications: { channel: string; subject: string }[];
  readonly recovery?: { status: WorkflowRun['status']; transitions: number; incidentStatus: string | null };
  readonly ledger: LedgerCheck;
}

const CONSOLE_URL = 'https://console.amazonaws-us-gov.com';
/** The simulated on-call operator who acknowledges drill incidents. */
const DRILL_OPERATOR = 'drill-on-call';

/**
 * Runs the synthesized incident response state machine end to end on this machine: the alarm of
 * the scenario's playbook arrives, every Task runs the real handler code against DynamoDB in
 * process, the signed local ledger and the simulated platform, on simulated time. Then (by
 * default) the alarm returns to OK, and the ledger is integrated, exported and verified.
 */
export async function runIncidentDrill(options: IncidentDrillOptions): Promise<IncidentDrillReport> {
  const synth = synthesizedAor();
  const state = await openLocalState(options.stateDirectory, { persist: options.persist ?? true });
  try {
    const start = options.start ?? new Date();
    const clock = new SimulatedClock(start);
    const platform = SimulatedPlatform.phoenixRooivalk({
      epoch: clock.now(),
      seed: options.scenario,
      incidentResponse: synth.config.incidentResponse,
      namespace: synth.config.kubernetesNamespace,
      clusterName: synth.config.primary.eksClusterName,
      database: synth.config.primary.database,
    });
    const alarmFields = startScenario(options.scenario, platform);
    if (options.fail) platform.failAction(options.fail);
    // The on-call operator acts as themself: their records go under their own writer namespace.
    const incidents = new IncidentService(
      new DynamoDbIncidentRepository(state.dynamo.documentClient, state.incidentsTable),
      state.ledgers.primary.appender(localOperatorWriter(DRILL_OPERATOR)),
      () => new Date(clock.now()),
    );
    const functions = synth.stacks.incidentResponse.workflow.functions;
    const handlers = incidentTaskHandlers({
      workflow: synth.incidentResponse,
      functions,
      state,
      platform: (branchClock) => platform.ports(branchClock),
      settings: actionSettings(synth.config),
      consoleUrl: CONSOLE_URL,
    });
    const escalate = synth.incidentResponse.functionArn(functions.notify);
    const notify = handlers[escalate];
    const alarmAt = clock.now();
    let incidentId: string | undefined;
    // The on-call operator, simulated: acknowledges once the configured time has passed, checked
    // whenever the workflow is about to decide on escalation.
    const taskHandlers = {
      ...handlers,
      'Escalate if unacknowledged': async (
        input: unknown,
        task: Parameters<NonNullable<typeof notify>>[1],
      ) => {
        const id = (input as { incidentId: string }).incidentId;
        incidentId = id;
        const ackAfter = options.acknowledgeAfterSeconds;
        if (ackAfter !== undefined && task.clock.now() - alarmAt >= ackAfter * 1000) {
          await incidents.acknowledge(id, { type: 'operator', id: `operator:${DRILL_OPERATOR}` });
        }
        if (!notify) throw new Error('the notify task is not bound');
        return notify(input as never, task);
      },
    };
    const execution = (name: string) => ({
      Execution: {
        Id: `arn:aws-us-gov:states:${synth.incidentResponse.environment.region}:${synth.incidentResponse.environment.account}:execution:${INCIDENT_STATE_MACHINE_NAME}:${name}`,
        Name: name,
        StartTime: new Date(clock.now()).toISOString(),
      },
    });
    const alarm = alarmStateChangeEvent({ ...alarmFields, state: 'ALARM', time: new Date(clock.now()) });
    const run = await runWorkflow({
      definition: synth.incidentResponse.definition,
      input: alarm as never,
      taskHandlers,
      clock,
      context: execution(`drill-${options.scenario}-${clock.now()}`),
    });
    const intake = (run.output as { intake?: { incidentId?: string } } | undefined)?.intake;
    incidentId ??= intake?.incidentId;

    let recovery: IncidentDrillReport['recovery'];
    if (options.recover ?? true) {
      const recovered = await runWorkflow({
        definition: synth.incidentResponse.definition,
        input: alarmStateChangeEvent({
          ...alarmFields,
          state: 'OK',
          reason: 'Threshold Crossed: datapoints back within the threshold',
          time: new Date(clock.now()),
        }) as never,
        taskHandlers,
        clock,
        context: execution(`drill-${options.scenario}-recovery-${clock.now()}`),
      });
      const after = incidentId ? await incidents.requireIncident(incidentId) : undefined;
      recovery = {
        status: recovered.status,
        transitions: recovered.transitions,
        incidentStatus: after?.status ?? null,
      };
    }

    const repository = new DynamoDbIncidentRepository(state.dynamo.documentClient, state.incidentsTable);
    const incident = incidentId ? await incidents.requireIncident(incidentId) : undefined;
    return {
      workflow: 'incident-response',
      scenario: options.scenario,
      status: run.status,
      ...(run.error && { error: run.error }),
      steps: run.steps.map((step) => ({
        state: step.state,
        scope: step.scope.join(' › '),
        status: step.status,
        startedAtMs: step.startedAt - alarmAt,
        durationMs: step.durationMs,
        ...(step.error && { error: `${step.error.error}: ${lambdaErrorMessage(step.error.cause)}` }),
      })),
      transitions: run.transitions,
      durationMs: run.durationMs,
      incident: incident ? { ...incident, timeline: await repository.readTimeline(incident.id) } : null,
      notifications: platform.outbox().map((m) => ({ channel: m.channel, subject: m.subject })),
      ...(recovery && { recovery }),
      ledger: await integrateAndVerify(state.ledgers),
    };
  } finally {
    await state.close();
  }
}
