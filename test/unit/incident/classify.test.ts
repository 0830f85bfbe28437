import { describe, expect, it } from 'vitest';
import {
  ForeignEventError,
  MalformedAlarmEventError,
  parseAlarmSignal,
} from '../../../lambdas/core/incident/alarm-signal';
import { classifyAlarm } from '../../../lambdas/core/incident/classify';
import { PLAYBOOKS } from '../../../lambdas/core/incident/playbooks';
import { alarmStateChangeEvent } from '../../../local/harness/alarm-events';

const at = new Date('2026-11-23T04:00:00.000Z');
const event = (fields: Omit<Parameters<typeof alarmStateChangeEvent>[0], 'time' | 'state'>) =>
  alarmStateChangeEvent({ ...fields, state: 'ALARM', time: at });

describe('classifying CloudWatch alarm state changes', () => {
  it.each([
    [
      'blockchain name',
      event({ alarmName: 'phoenix-rooivalk-blockchain-node-down' }),
      'blockchain_node_down',
    ],
    [
      'blockchain metric',
      event({
        alarmName: 'phoenix-rooivalk-ledger-health',
        namespace: 'PhoenixRooivalk/Blockchain',
        metricName: 'NodeReady',
        dimensions: { PodName: 'blockchain-node-1' },
      }),
      'blockchain_node_down',
    ],
    [
      'Container Insights CPU',
      event({
        alarmName: 'phoenix-rooivalk-api-pods',
        namespace: 'ContainerInsights',
        metricName: 'pod_cpu_utilization',
        dimensions: {
          ClusterName: 'phoenix-rooivalk-production',
          Namespace: 'phoenix-rooivalk',
          PodName: 'phoenix-api',
        },
      }),
      'high_cpu_utilization',
    ],
    ['CPU name', event({ alarmName: 'phoenix-rooivalk-high-cpu' }), 'high_cpu_utilization'],
    [
      'security name',
      event({ alarmName: 'phoenix-rooivalk-security-breach-c2-link' }),
      'security_breach_detected',
    ],
    [
      'GuardDuty metric',
      event({
        alarmName: 'phoenix-rooivalk-findings',
        namespace: 'AWS/GuardDuty',
        metricName: 'FindingCount',
      }),
      'security_breach_detected',
    ],
    [
      'RDS connections',
      event({
        alarmName: 'phoenix-rooivalk-db-pool',
        namespace: 'AWS/RDS',
        metricName: 'DatabaseConnections',
        dimensions: { DBInstanceIdentifier: 'phoenix-rooivalk-production' },
      }),
      'database_connection_failure',
    ],
    [
      'database name',
      event({ alarmName: 'phoenix-rooivalk-database-connection-errors' }),
      'database_connection_failure',
    ],
    [
      'anything else',
      event({
        alarmName: 'phoenix-rooivalk-disk-latency',
        namespace: 'AWS/EBS',
        metricName: 'VolumeQueueLength',
      }),
      'unknown_incident',
    ],
    // A security alarm on a CPU metric is a security incident: the most specific rule wins.
    [
      'security beats CPU',
      event({ alarmName: 'phoenix-rooivalk-security-cryptominer', metricName: 'CPUUtilization' }),
      'security_breach_detected',
    ],
  ])('%s', (_case, alarm, playbook) => {
    expect(classifyAlarm(parseAlarmSignal(alarm, at)).playbook).toBe(playbook);
  });

  it('lets the alarm tag aor:playbook decide', () => {
    const signal = parseAlarmSignal(event({ alarmName: 'phoenix-rooivalk-high-cpu' }), at);
    expect(classifyAlarm(signal, { 'aor:playbook': 'database_connection_failure' })).toEqual({
      playbook: 'database_connection_failure',
      reason: 'alarm tag aor:playbook=database_connection_failure',
    });
    expect(classifyAlarm(signal, { 'aor:playbook': 'not-a-playbook' }).playbook).toBe('high_cpu_utilization');
  });

  it('reads the affected systems, the alarm ARN and the state timestamp', () => {
    const signal = parseAlarmSignal(
      event({
        alarmName: 'phoenix-rooivalk-db-pool',
        namespace: 'AWS/RDS',
        metricName: 'DatabaseConnections',
        dimensions: { DBInstanceIdentifier: 'phoenix-rooivalk-production' },
      }),
      at,
    );
    expect(signal).toMatchObject({
      state: 'ALARM',
      changedAt: '2026-11-23T04:00:00.000Z',
      affectedSystems: ['DBInstanceIdentifier=phoenix-rooivalk-production'],
      alarmArn: 'arn:aws-us-gov:cloudwatch:us-gov-west-1:111122223333:alarm:phoenix-rooivalk-db-pool',
      source: 'cloudwatch-alarm',
    });
  });

  it('accepts the documented manual start', () => {
    const signal = parseAlarmSignal(
      {
        manual: {
          requestId: 'ops-42',
          alarmName: 'manual-drill',
          playbook: 'security_breach_detected',
          affectedSystems: ['PodName=blockchain-node-1'],
        },
      },
      at,
    );
    expect(classifyAlarm(signal)).toEqual({
      playbook: 'security_breach_detected',
      reason: 'playbook chosen by the operator',
    });
    expect(signal).toMatchObject({ source: 'manual', eventId: 'ops-42', changedAt: at.toISOString() });
  });

  it.each([
    ['another source', { ...event({ alarmName: 'x' }), source: 'aws.ec2' }, ForeignEventError],
    [
      'another detail-type',
      { ...event({ alarmName: 'x' }), 'detail-type': 'EC2 Instance State-change Notification' },
      ForeignEventError,
    ],
    [
      'INSUFFICIENT_DATA',
      alarmStateChangeEvent({ alarmName: 'x', state: 'INSUFFICIENT_DATA', time: at }),
      ForeignEventError,
    ],
    [
      'no alarm name',
      (() => {
        const e = event({ alarmName: 'x' }) as { detail: Record<string, unknown> };
        delete e.detail.alarmName;
        return e;
      })(),
      MalformedAlarmEventError,
    ],
    [
      'a bad manual playbook',
      { manual: { requestId: 'r1', alarmName: 'x', playbook: 'reboot_everything' } },
      MalformedAlarmEventError,
    ],
    ['not an object', 'ALARM', ForeignEventError],
  ])('rejects %s with a named error', (_case, input, error) => {
    expect(() => parseAlarmSignal(input, at)).toThrow(error);
  });

  it('keeps the seed playbooks: severities, escalation times and channels', () => {
    expect(PLAYBOOKS.blockchain_node_down).toMatchObject({
      severity: 'HIGH',
      escalationSeconds: 300,
      assignee: 'blockchain-team',
    });
    expect(PLAYBOOKS.security_breach_detected).toMatchObject({
      severity: 'CRITICAL',
      escalationSeconds: 60,
      channels: ['security-team', 'incident-commander', 'leadership'],
    });
    expect(PLAYBOOKS.database_connection_failure.actions).toEqual([
      'restart_database_connections',
      'check_database_health',
      'failover_to_secondary',
    ]);
  });
});
