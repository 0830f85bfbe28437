import type { PlaybookId } from '../../lambdas/core/incident/playbooks';
import type { ScenarioAlarm, SimulatedPlatform } from '../simulation/platform';
import type { AlarmEventFields } from './alarm-events';

/**
 * How each playbook's drill begins: what goes wrong on the simulated platform, and the CloudWatch
 * alarm that fires for it (its state-change event is the workflow's input).
 */
const SCENARIOS: Readonly<Record<PlaybookId, (platform: SimulatedPlatform) => ScenarioAlarm>> = {
  blockchain_node_down: (platform) => platform.breakBlockchainNode(),
  high_cpu_utilization: (platform) => platform.saturateCpu(),
  security_breach_detected: (platform) => platform.breachPods(),
  database_connection_failure: (platform) => platform.dropDatabaseConnections(),
  // An alarm no playbook rule claims: the ops team is told and triages by hand.
  unknown_incident: (platform) => {
    const alarmName = `${platform.layout.alarmNamePrefix}ebs-queue-length`;
    return {
      alarmName,
      alarmArn: platform.defineAlarm(alarmName),
      startedAt: platform.epoch,
      reason: 'Threshold Crossed: 3 datapoints were greater than the threshold (32.0)',
      metrics: [
        {
          namespace: 'AWS/EBS',
          name: 'VolumeQueueLength',
          dimensions: { VolumeId: 'vol-0a1b2c3d4e5f60001' },
        },
      ],
    };
  },
};

/** Sets the scenario up on the platform; returns the fields of its alarm's state-change events. */
export function startScenario(
  playbook: PlaybookId,
  platform: SimulatedPlatform,
): Omit<AlarmEventFields, 'state' | 'time'> {
  const alarm = SCENARIOS[playbook](platform);
  const metric = alarm.metrics[0];
  return {
    alarmName: alarm.alarmName,
    reason: alarm.reason,
    account: platform.layout.account,
    region: platform.layout.region,
    ...(metric && { namespace: metric.namespace, metricName: metric.name, dimensions: metric.dimensions }),
  };
}
