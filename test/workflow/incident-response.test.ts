import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PLAYBOOKS, type PlaybookId } from '../../lambdas/core/incident/playbooks';
import { actionSettings } from '../../lib/constructs/incident-response-workflow';
import { type IncidentDrillOptions, runIncidentDrill } from '../../local/harness/incident-drill';
import { incidentTaskHandlers } from '../../local/harness/incident-task-handlers';
import { openLocalState } from '../../local/harness/local-state';
import { synthesizedAor } from '../../local/harness/synthesized-app';
import { SimulatedPlatform } from '../../local/simulation/platform';
import { SimulatedClock } from '../../local/workflow/clock';
import { runWorkflow } from '../../local/workflow/runner';

const directories: string[] = [];
afterAll(() => {
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
});

/** A drill on a fresh state directory, DynamoDB in memory, at a fixed simulated start. */
function drill(options: Omit<IncidentDrillOptions, 'stateDirectory'>) {
  const stateDirectory = mkdtempSync(path.join(os.tmpdir(), 'aor-workflow-'));
  directories.push(stateDirectory);
  return runIncidentDrill({
    start: new Date('2026-11-23T04:00:00.000Z'),
    persist: false,
    stateDirectory,
    ...options,
  });
}

const timelineTypes = (report: Awaited<ReturnType<typeof drill>>) =>
  report.incident?.timeline.map((e) => e.type) ?? [];

describe('incident response, the synthesized state machine run locally', () => {
  it.each(Object.keys(PLAYBOOKS) as PlaybookId[])(
    '%s: opens the incident, notifies its channels, runs its actions, resolves on OK, ledger verified',
    async (scenario) => {
      const playbook = PLAYBOOKS[scenario];
      const report = await drill({ scenario, acknowledgeAfterSeconds: 10 });
      expect(report.status).toBe('SUCCEEDED');
      expect(report.incident).toMatchObject({
        id: 'INC-20261123-0001',
        playbook: scenario,
        severity: playbook.severity,
        assignee: playbook.assignee,
        status: 'resolved',
      });
      expect(report.notifications.map((n) => n.channel).slice(0, playbook.channels.length)).toEqual(
        playbook.channels,
      );
      const actionEvents = report.incident?.timeline.filter((e) => e.type.startsWith('action-')) ?? [];
      expect(actionEvents.map((e) => e.details?.action)).toEqual(playbook.actions);
      expect(timelineTypes(report)).toContain('acknowledged');
      expect(timelineTypes(report)).not.toContain('escalated');
      expect(report.recovery).toMatchObject({ status: 'SUCCEEDED', incidentStatus: 'resolved' });
      expect(report.ledger).toMatchObject({ verified: true });
      expect(report.ledger.entries).toBeGreaterThanOrEqual(
        4 + playbook.channels.length + playbook.actions.length,
      );
    },
  );

  it('blockchain_node_down really restarts the node and stays within 60 state transitions', async () => {
    const report = await drill({ scenario: 'blockchain_node_down', acknowledgeAfterSeconds: 360 });
    expect(report.transitions).toBeLessThanOrEqual(60);
    const restart = report.incident?.timeline.find((e) => e.details?.action === 'restart_blockchain_node');
    expect(restart).toMatchObject({
      type: 'action-succeeded',
      details: { workload: 'StatefulSet/blockchain-node', readyReplicas: 3 },
    });
    // The rolling restart of three pods takes simulated time, not wall time.
    const step = report.steps.find((s) => s.state === 'Run action' && s.scope.endsWith('item 0'));
    expect(step?.durationMs).toBeGreaterThan(30_000);
  });

  it('escalates to the incident commander, then leadership, when nobody acknowledges', async () => {
    const report = await drill({ scenario: 'security_breach_detected' });
    const escalations = report.incident?.timeline.filter((e) => e.type === 'escalated') ?? [];
    expect(escalations.map((e) => e.details?.tier)).toEqual(['incident-commander', 'leadership']);
    expect(report.incident?.escalationLevel).toBe(2);
    const escalated = report.notifications.filter((n) => n.subject.includes('escalated'));
    expect(escalated.map((n) => n.channel)).toEqual(['incident-commander', 'leadership']);
  });

  it('stops escalating once someone acknowledges', async () => {
    const report = await drill({ scenario: 'blockchain_node_down', acknowledgeAfterSeconds: 360 });
    expect((report.incident?.timeline ?? []).filter((e) => e.type === 'escalated')).toHaveLength(1);
    expect(report.incident?.acknowledgedBy).toBe('operator:drill-on-call');
  });

  it('records a failed action and still runs the rest: a 403 is caught at once, not retried', async () => {
    const report = await drill({
      scenario: 'blockchain_node_down',
      fail: 'restart_blockchain_node',
      acknowledgeAfterSeconds: 10,
    });
    expect(report.status).toBe('SUCCEEDED');
    const actions = report.incident?.timeline.filter((e) => e.type.startsWith('action-')) ?? [];
    expect(actions[0]).toMatchObject({
      type: 'action-failed',
      details: { action: 'restart_blockchain_node', error: 'KubernetesForbiddenError' },
    });
    expect(actions.slice(1).map((e) => e.details?.action)).toEqual([
      'check_peer_connectivity',
      'verify_consensus_participation',
    ]);
    const attempts = report.steps.filter((s) => s.state === 'Run action' && s.scope.endsWith('item 0'));
    expect(attempts.map((s) => s.status)).toEqual(['CAUGHT']);
  });

  it('retries a timeout with backoff before giving the action up', async () => {
    const report = await drill({
      scenario: 'security_breach_detected',
      fail: 'capture_forensic_evidence',
      acknowledgeAfterSeconds: 10,
    });
    const attempts = report.steps.filter((s) => s.state === 'Run action' && s.scope.endsWith('item 1'));
    // Four retries (2 s, 4 s, 8 s, 16 s apart) after the first attempt, then caught.
    expect(attempts.map((s) => s.status)).toEqual(['RETRIED', 'RETRIED', 'RETRIED', 'RETRIED', 'CAUGHT']);
    expect(attempts[0]?.error).toContain('KubernetesTimeoutError');
    expect(
      report.incident?.timeline.filter((e) => e.details?.action === 'notify_security_team'),
    ).toHaveLength(1);
  });

  it.each([
    [
      'a foreign event',
      { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} },
      'ForeignEventError',
    ],
    [
      'a malformed alarm event',
      { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', id: 'e1', detail: {} },
      'MalformedAlarmEventError',
    ],
  ])('rejects %s with a named error and writes nothing', async (_case, input, error) => {
    const synth = synthesizedAor();
    const stateDirectory = mkdtempSync(path.join(os.tmpdir(), 'aor-workflow-'));
    directories.push(stateDirectory);
    const state = await openLocalState(stateDirectory, { persist: false });
    try {
      const platform = SimulatedPlatform.phoenixRooivalk();
      const run = await runWorkflow({
        definition: synth.incidentResponse.definition,
        input: input as never,
        clock: new SimulatedClock(Date.parse('2026-11-23T04:00:00.000Z')),
        taskHandlers: incidentTaskHandlers({
          workflow: synth.incidentResponse,
          functions: synth.stacks.incidentResponse.workflow.functions,
          state,
          platform: (clock) => platform.ports(clock),
          settings: actionSettings(synth.config),
          consoleUrl: 'https://console.amazonaws-us-gov.com',
        }),
      });
      expect(run.status).toBe('FAILED');
      expect(run.error?.error).toBe(error);
      expect(run.steps.map((s) => s.state)).toEqual(['Take in alarm', 'Reject event']);
      expect(
        await state.dynamo.documentClient.send(
          new (await import('@aws-sdk/lib-dynamodb')).ScanCommand({ TableName: state.incidentsTable }),
        ),
      ).toMatchObject({ Count: 0 });
      expect((await state.ledgers.primary.ledger.integrate()).treeSize).toBe(0);
    } finally {
      await state.close();
    }
  });
});
