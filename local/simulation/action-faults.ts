import {
  CloudWatchQueryFailedError,
  CloudWatchThrottledError,
} from '../../lambdas/adapters/aws/cloudwatch-metrics-reader';
import {
  DatabaseStateConflictError,
  RdsThrottledError,
} from '../../lambdas/adapters/aws/rds-database-operations';
import { SnsThrottledError } from '../../lambdas/adapters/aws/sns-notifier';
import {
  KubernetesConflictError,
  KubernetesForbiddenError,
  KubernetesTimeoutError,
  KubernetesUnavailableError,
} from '../../lambdas/adapters/kubernetes/errors';
import type { ActionName } from '../../lambdas/core/incident/playbooks';
import type { InjectedFault } from './calls';
import { KUBERNETES_REQUEST_TIMEOUT_MS } from './durations';
import type { SimulatedPlatform } from './platform';

/**
 * How each automated action of the playbooks plausibly fails for real, as a fault on the port call
 * it depends on: an RBAC refusal, an overloaded API server, throttling, a busy database. What
 * `aor drill incident --fail <action>` injects.
 */
export function injectActionFault(
  platform: Pick<SimulatedPlatform, 'layout' | 'injectFault'>,
  action: ActionName,
  options: { times?: number } = {},
): InjectedFault {
  const { namespace, blockchainWorkload, connectionPooler, database, peerService } = platform.layout;
  const forbidden = (verb: string, resource: string, group: string, name: string) =>
    new KubernetesForbiddenError(
      `${verb} ${resource} ${namespace}/${name}: ${resource}${group ? `.${group}` : ''} "${name}" is forbidden: User "aor-incident-action" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${namespace}"`,
      { statusCode: 403, reason: 'Forbidden' },
    );
  const throttled = 'Rate exceeded';
  const times = options.times === undefined ? {} : { times: options.times };
  switch (action) {
    case 'restart_blockchain_node':
    case 'restart_database_connections': {
      const target = action === 'restart_blockchain_node' ? blockchainWorkload : connectionPooler;
      return platform.injectFault({
        operation: 'restartWorkload',
        when: (workload) => workload.name === target.name,
        error: (workload) => forbidden('patch', `${workload.kind.toLowerCase()}s`, 'apps', workload.name),
        ...times,
      });
    }
    case 'check_peer_connectivity':
      return platform.injectFault({
        operation: 'readyPeerEndpoints',
        error: () =>
          new KubernetesUnavailableError(
            `list EndpointSlices of Service ${namespace}/${peerService}: the server is currently unable to handle the request`,
            { statusCode: 503, reason: 'ServiceUnavailable' },
          ),
        ...times,
      });
    case 'verify_consensus_participation':
      return platform.injectFault({
        operation: 'consensusParticipation',
        error: () => new CloudWatchThrottledError(`CloudWatch GetMetricData throttled: ${throttled}`),
        ...times,
      });
    case 'scale_up_resources':
      return platform.injectFault({
        operation: 'scaleWorkload',
        error: ({ kind, name, replicas }) =>
          new KubernetesConflictError(
            `scale ${kind} ${namespace}/${name} to ${replicas}: Operation cannot be fulfilled on ${kind.toLowerCase()}s.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`,
            { statusCode: 409, reason: 'Conflict' },
          ),
        ...times,
      });
    case 'analyze_resource_usage':
      return platform.injectFault({
        operation: 'topCpuConsumers',
        error: () =>
          new CloudWatchQueryFailedError(
            'metric query pods ended InternalError: InternalError: Internal service error',
          ),
        ...times,
      });
    case 'check_for_resource_leaks':
      return platform.injectFault({
        operation: 'memoryTrends',
        error: () => new CloudWatchThrottledError(`CloudWatch GetMetricData throttled: ${throttled}`),
        ...times,
      });
    case 'isolate_affected_systems':
      return platform.injectFault({
        operation: 'isolatePods',
        error: ({ incidentId }) =>
          forbidden(
            'create',
            'networkpolicies',
            'networking.k8s.io',
            `aor-quarantine-${incidentId.toLowerCase()}`,
          ),
        ...times,
      });
    case 'capture_forensic_evidence':
      return platform.injectFault({
        operation: 'captureForensics',
        delayMs: KUBERNETES_REQUEST_TIMEOUT_MS,
        error: () =>
          new KubernetesTimeoutError(
            `read pods in ${namespace}: no answer from the Kubernetes API: no answer within ${KUBERNETES_REQUEST_TIMEOUT_MS} ms`,
          ),
        ...times,
      });
    case 'notify_security_team':
      return platform.injectFault({
        operation: 'publish',
        when: (channel) => channel === 'security-team',
        error: (channel) => new SnsThrottledError(`SNS throttled a publish to ${channel}: ${throttled}`),
        ...times,
      });
    case 'check_database_health':
      return platform.injectFault({
        operation: 'health',
        error: ({ identifier }) =>
          new RdsThrottledError(`RDS throttled a request for ${identifier}: ${throttled}`),
        ...times,
      });
    case 'failover_to_secondary':
      return platform.injectFault({
        operation: 'failover',
        error: () =>
          new DatabaseStateConflictError(
            `${database.identifier}: Database instance is not in available state.`,
          ),
        ...times,
      });
  }
}
