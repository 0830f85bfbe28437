import {
  DescribeLoadBalancersCommand,
  type ElasticLoadBalancingV2Client,
  ModifyTargetGroupCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  type ChangeInfo,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import type { RoutingChange, TrafficRouting } from '../../core/recovery/ports';
import {
  AwsThrottledError,
  awsErrorMessage,
  hasAwsErrorName,
  isThrottling,
  translatingErrors,
} from './aws-errors';

/** Short, so that clients follow a switch (and a switch back) within a minute. */
const CNAME_TTL_SECONDS = 60;
/** Route 53 refuses a change batch comment longer than this. */
const MAX_COMMENT_LENGTH = 256;
/** DescribeLoadBalancers' largest page. */
const LOAD_BALANCER_PAGE_SIZE = 400;
/**
 * Load balancer DNS names: `name-id.<region>.elb.amazonaws.com` (Application, Classic) and
 * `name-id.elb.<region>.amazonaws.com` (Network), optionally `dualstack.`-prefixed.
 */
const LOAD_BALANCER_DNS_NAME = /^[a-z0-9.-]+\.elb(\.[a-z0-9-]+)?\.amazonaws\.com$/;

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

export class TargetGroupNotFoundError extends Error {
  override name = 'TargetGroupNotFoundError';
}

/** The target looks like a load balancer's DNS name, but no load balancer in the region has it. */
export class LoadBalancerNotFoundError extends Error {
  override name = 'LoadBalancerNotFoundError';
}

export interface Route53TrafficRoutingOptions {
  /**
   * Canonical hosted zone ids of load balancers, by DNS name. A load balancer listed here is aliased without
   * looking it up, which also serves one in a region other than the ELB client's.
   */
  readonly loadBalancerHostedZones?: Readonly<Record<string, string>>;
}

/** DNS names compare case-insensitively, with or without the root's dot and the dual-stack prefix. */
function normalizedDnsName(name: string): string {
  return name
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^dualstack\./, '');
}

function isLoadBalancerDnsName(target: string): boolean {
  return LOAD_BALANCER_DNS_NAME.test(normalizedDnsName(target));
}

function routingChange(info: ChangeInfo | undefined): RoutingChange {
  // Route 53 answers every accepted change with its ChangeInfo; the SDK merely types it optional.
  return { changeId: (info?.Id ?? '').replace(/^\/change\//, ''), status: info?.Status ?? 'PENDING' };
}

function translateRoute53Error(subject: string): (error: unknown) => unknown {
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
    return error;
  };
}

function translateElbError(subject: string): (error: unknown) => unknown {
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

/**
 * Switches the platform's DNS name to the DR site. In GovCloud, Route 53 is the partition's one global
 * endpoint (route53.us-gov.amazonaws.com, signed for us-gov-west-1); the client is built for it elsewhere,
 * the ELB client for the DR region.
 */
export class Route53TrafficRouting implements TrafficRouting {
  private readonly configuredZones: ReadonlyMap<string, string>;

  constructor(
    private readonly route53: Route53Client,
    private readonly elb: ElasticLoadBalancingV2Client,
    options: Route53TrafficRoutingOptions = {},
  ) {
    this.configuredZones = new Map(
      Object.entries(options.loadBalancerHostedZones ?? {}).map(([dnsName, zone]) => [
        normalizedDnsName(dnsName),
        zone,
      ]),
    );
  }

  async switchRecord(request: {
    hostedZoneId: string;
    recordName: string;
    target: string;
    comment: string;
  }): Promise<RoutingChange> {
    const { hostedZoneId, recordName, target } = request;
    const recordSet: ResourceRecordSet = isLoadBalancerDnsName(target)
      ? {
          Name: recordName,
          Type: 'A',
          AliasTarget: {
            HostedZoneId: await this.loadBalancerHostedZone(target),
            DNSName: target,
            // A lone simple record has no other answer to fall back to: health would change nothing.
            EvaluateTargetHealth: false,
          },
        }
      : {
          Name: recordName,
          Type: 'CNAME',
          TTL: CNAME_TTL_SECONDS,
          ResourceRecords: [{ Value: target }],
        };
    const result = await translatingErrors(
      () =>
        this.route53.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: hostedZoneId,
            ChangeBatch: {
              Comment: request.comment.slice(0, MAX_COMMENT_LENGTH),
              Changes: [{ Action: 'UPSERT', ResourceRecordSet: recordSet }],
            },
          }),
        ),
      translateRoute53Error(`${recordName} in hosted zone ${hostedZoneId}`),
    );
    return routingChange(result.ChangeInfo);
  }

  async changeStatus(changeId: string): Promise<RoutingChange> {
    const result = await translatingErrors(
      () => this.route53.send(new GetChangeCommand({ Id: changeId })),
      translateRoute53Error(`change ${changeId}`),
    );
    return routingChange(result.ChangeInfo);
  }

  async setHealthCheckPath(request: { targetGroupArn: string; path: string }): Promise<void> {
    await translatingErrors(
      () =>
        this.elb.send(
          new ModifyTargetGroupCommand({
            TargetGroupArn: request.targetGroupArn,
            HealthCheckPath: request.path,
          }),
        ),
      translateElbError(`target group ${request.targetGroupArn}`),
    );
  }

  /**
   * An alias to a load balancer names the hosted zone Route 53 keeps for the load balancers of its region
   * and type. DescribeLoadBalancers cannot filter by DNS name, so the region's load balancers are searched.
   */
  private async loadBalancerHostedZone(dnsName: string): Promise<string> {
    const wanted = normalizedDnsName(dnsName);
    const configured = this.configuredZones.get(wanted);
    if (configured) return configured;
    let marker: string | undefined;
    do {
      const page = await translatingErrors(
        () =>
          this.elb.send(
            new DescribeLoadBalancersCommand({ Marker: marker, PageSize: LOAD_BALANCER_PAGE_SIZE }),
          ),
        translateElbError(`the load balancer ${dnsName}`),
      );
      const match = page.LoadBalancers?.find(
        (loadBalancer) =>
          loadBalancer.DNSName !== undefined && normalizedDnsName(loadBalancer.DNSName) === wanted,
      );
      if (match?.CanonicalHostedZoneId) return match.CanonicalHostedZoneId;
      marker = page.NextMarker;
    } while (marker);
    throw new LoadBalancerNotFoundError(
      `no load balancer has the DNS name ${dnsName}; list its canonical hosted zone in loadBalancerHostedZones`,
    );
  }
}
