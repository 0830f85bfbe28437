import { type CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  type ElasticLoadBalancingV2Client,
  ModifyTargetGroupCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, type Route53Client } from '@aws-sdk/client-route-53';
import type {
  ResolvedTraffic,
  TrafficRouting,
  TrafficSwitch,
  TrafficSwitchRequest,
} from '../../core/recovery/ports';
import {
  AwsThrottledError,
  awsErrorMessage,
  hasAwsErrorName,
  isThrottling,
  translatingErrors,
} from './aws-errors';
import { CloudWatchThrottledError } from './cloudwatch-metrics-reader';
import {
  canonicalDnsName,
  describeFailoverDatapoint,
  FAILOVER_SIGNAL,
  failoverSignalDimensions,
} from './dr-failover-signal';

/** Route 53 refuses a change batch comment longer than this. */
const MAX_COMMENT_LENGTH = 256;
/** What Node's sockets and the SDK's HTTP handler report when an endpoint does not answer. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** c-ares' answers (node:dns) that mean the name has no CNAME here: NXDOMAIN, or no record of the type. */
const NO_RECORD_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', 'ENODATA']);
/** c-ares' answers that mean the resolver itself failed or did not answer; asking again may work. */
const RESOLVER_FAILURE_CODES: ReadonlySet<string> = new Set([
  'ETIMEOUT',
  'ESERVFAIL',
  'ECONNREFUSED',
  'EREFUSED',
  'EBADRESP',
  'ECANCELLED',
]);

/**
 * Route 53 refused the request rate, or is still applying an earlier change to the zone
 * (`PriorRequestNotComplete`); either way, the same request succeeds later.
 */
export class Route53ThrottledError extends AwsThrottledError {
  override name = 'Route53ThrottledError';
}

export class HostedZoneNotFoundError extends Error {
  override name = 'HostedZoneNotFoundError';
}

/** Route 53 rejected the change itself (e.g. a CNAME where an A record exists); retrying will not help. */
export class InvalidRoutingChangeError extends Error {
  override name = 'InvalidRoutingChangeError';
}

/**
 * Route 53's control plane did not answer. GovCloud homes it in us-gov-west-1, so during that region's
 * loss an UPSERT cannot succeed however often it is retried: `routing.mode = failover` is what works then.
 */
export class Route53ControlPlaneUnreachableError extends Error {
  override name = 'Route53ControlPlaneUnreachableError';
}

export class TargetGroupNotFoundError extends Error {
  override name = 'TargetGroupNotFoundError';
}

/**
 * The DR VPC's resolver has no CNAME for the record: the private hosted zone is not associated with
 * the DR VPC, or the record is missing or is not a CNAME. Waiting will not change that.
 */
export class RoutingRecordNotFoundError extends Error {
  override name = 'RoutingRecordNotFoundError';
}

/** The DR VPC's resolver failed or did not answer (timeout, SERVFAIL, refused); a later query may succeed. */
export class DnsResolverUnavailableError extends Error {
  override name = 'DnsResolverUnavailableError';
  readonly retryable = true;
}

/** The one `node:dns` query the adapter makes; `new Resolver()` from `node:dns/promises` is one. */
export interface CnameResolver {
  resolveCname(hostname: string): Promise<string[]>;
}

export interface Route53TrafficRoutingDependencies {
  /** CloudWatch in the DR region: where the failover signal's alarm is. */
  readonly cloudWatch: CloudWatchClient;
  /** Route 53's one endpoint of the partition (signed for us-gov-west-1 in GovCloud); upsert mode only. */
  readonly route53: Route53Client;
  /** Elastic Load Balancing in the DR region: the DR target group. */
  readonly elb: ElasticLoadBalancingV2Client;
  /** Asks the VPC's resolver, which answers the private hosted zones associated with the VPC. */
  readonly resolver: CnameResolver;
  readonly clock: () => Date;
}

function errorCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function isUnreachable(error: unknown): boolean {
  const code = errorCode(error);
  return hasAwsErrorName(error, ['TimeoutError']) || (code !== undefined && UNREACHABLE_CODES.has(code));
}

export function translateRoute53Error(subject: string): (error: unknown) => unknown {
  return (error) => {
    const options = { cause: error };
    const reason = `${subject}: ${awsErrorMessage(error)}`;
    if (isThrottling(error) || hasAwsErrorName(error, ['PriorRequestNotComplete'])) {
      return new Route53ThrottledError(`Route 53 could not take a request for ${reason} yet`, options);
    }
    if (hasAwsErrorName(error, ['NoSuchHostedZone'])) return new HostedZoneNotFoundError(reason, options);
    if (hasAwsErrorName(error, ['InvalidChangeBatch', 'InvalidInput'])) {
      return new InvalidRoutingChangeError(reason, options);
    }
    if (isUnreachable(error)) {
      return new Route53ControlPlaneUnreachableError(
        `Route 53's control plane did not answer for ${reason}; in GovCloud it is homed in us-gov-west-1, so with that region down only routing.mode = failover can switch`,
        options,
      );
    }
    return error;
  };
}

export function translateCloudWatchError(subject: string): (error: unknown) => unknown {
  return (error) =>
    isThrottling(error)
      ? new CloudWatchThrottledError(`CloudWatch throttled ${subject}: ${awsErrorMessage(error)}`, {
          cause: error,
        })
      : error;
}

export function translateElbError(subject: string): (error: unknown) => unknown {
  return (error) => {
    const options = { cause: error };
    const reason = `${subject}: ${awsErrorMessage(error)}`;
    if (isThrottling(error)) return new AwsThrottledError(`ELB throttled a request for ${reason}`, options);
    if (hasAwsErrorName(error, ['TargetGroupNotFound', 'TargetGroupNotFoundException'])) {
      return new TargetGroupNotFoundError(reason, options);
    }
    return error;
  };
}

export function translateDnsError(recordName: string): (error: unknown) => unknown {
  return (error) => {
    const code = errorCode(error);
    const options = { cause: error };
    if (code !== undefined && NO_RECORD_CODES.has(code)) {
      return new RoutingRecordNotFoundError(
        `the DR VPC's resolver has no CNAME for ${recordName} (${code}): is the private hosted zone associated with the DR VPC, and the record a CNAME?`,
        options,
      );
    }
    if (code !== undefined && RESOLVER_FAILURE_CODES.has(code)) {
      return new DnsResolverUnavailableError(
        `the DR VPC's resolver failed on ${recordName} (${code})`,
        options,
      );
    }
    return error;
  };
}

/**
 * Sends the platform's DNS name to the DR site from the DR region, and watches it happen.
 *
 * In failover mode it touches no Route 53 API: it publishes the failover signal's datapoint to
 * CloudWatch in the DR region, the alarm and the PRIMARY's health check follow it, and Route 53's data
 * plane answers the SECONDARY (the DR target). In upsert mode it UPSERTs a CNAME (GovCloud private zones
 * take no alias to a load balancer) through Route 53's control plane, which needs us-gov-west-1 up.
 * Either way, what clients see is read from the VPC's resolver, not from Route 53's API.
 */
export class Route53TrafficRouting implements TrafficRouting {
  constructor(private readonly deps: Route53TrafficRoutingDependencies) {}

  async sendTrafficToDrSite(request: TrafficSwitchRequest): Promise<TrafficSwitch> {
    return request.mode === 'failover' ? this.publishFailoverSignal(request) : this.upsertRecord(request);
  }

  async trafficStatus(request: { recordName: string; drTarget: string }): Promise<ResolvedTraffic> {
    const answers = await translatingErrors(
      () => this.deps.resolver.resolveCname(request.recordName),
      translateDnsError(request.recordName),
    );
    // A CNAME is a singleton: a name has one canonical name or none.
    const [answer] = answers;
    if (answer === undefined) {
      throw new RoutingRecordNotFoundError(
        `the DR VPC's resolver answered no CNAME for ${request.recordName}`,
      );
    }
    return {
      answer: canonicalDnsName(answer),
      onDrSite: canonicalDnsName(answer) === canonicalDnsName(request.drTarget),
    };
  }

  async setHealthCheckPath(request: { targetGroupArn: string; path: string }): Promise<void> {
    await translatingErrors(
      () =>
        this.deps.elb.send(
          new ModifyTargetGroupCommand({
            TargetGroupArn: request.targetGroupArn,
            HealthCheckPath: request.path,
          }),
        ),
      translateElbError(`target group ${request.targetGroupArn}`),
    );
  }

  private async publishFailoverSignal(request: TrafficSwitchRequest): Promise<TrafficSwitch> {
    const at = this.deps.clock();
    await translatingErrors(
      () =>
        this.deps.cloudWatch.send(
          new PutMetricDataCommand({
            Namespace: FAILOVER_SIGNAL.namespace,
            MetricData: [
              {
                MetricName: FAILOVER_SIGNAL.metricName,
                Dimensions: Object.entries(failoverSignalDimensions(request.recordName)).map(
                  ([Name, Value]) => ({ Name, Value }),
                ),
                Value: FAILOVER_SIGNAL.toDrSite,
                Timestamp: at,
                // Route 53 health checks cannot follow alarms on high-resolution metrics.
                StorageResolution: FAILOVER_SIGNAL.periodSeconds,
              },
            ],
          }),
        ),
      translateCloudWatchError(`the failover signal of ${request.recordName}`),
    );
    return { mode: 'failover', reference: describeFailoverDatapoint(request.recordName, at) };
  }

  private async upsertRecord(request: TrafficSwitchRequest): Promise<TrafficSwitch> {
    const { hostedZoneId, recordName, drTarget } = request;
    const result = await translatingErrors(
      () =>
        this.deps.route53.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: hostedZoneId,
            ChangeBatch: {
              Comment: request.comment.slice(0, MAX_COMMENT_LENGTH),
              Changes: [
                {
                  Action: 'UPSERT',
                  ResourceRecordSet: {
                    Name: recordName,
                    Type: 'CNAME',
                    TTL: request.ttlSeconds,
                    ResourceRecords: [{ Value: drTarget }],
                  },
                },
              ],
            },
          }),
        ),
      translateRoute53Error(`${recordName} in hosted zone ${hostedZoneId}`),
    );
    // Route 53 answers every accepted change with its ChangeInfo; the SDK merely types it optional.
    return { mode: 'upsert', reference: (result.ChangeInfo?.Id ?? '').replace(/^\/change\//, '') };
  }
}
