import {
  HostedZoneNotFoundError,
  InvalidRoutingChangeError,
  LoadBalancerNotFoundError,
  TargetGroupNotFoundError,
} from '../../lambdas/adapters/aws/route53-traffic-routing';
import type { RoutingChange, TrafficRouting } from '../../lambdas/core/recovery/ports';
import type { OperationRunner } from './calls';
import { between, hexId } from './deterministic';
import {
  ELB_API_MS,
  ROUTE53_API_MS,
  ROUTE53_PROPAGATION_MAX_MS,
  ROUTE53_PROPAGATION_MIN_MS,
} from './durations';

/**
 * Simulated Route 53 and Elastic Load Balancing for the switch to the DR site: hosted zones and
 * their records, changes that are `PENDING` until propagated (30-60 s) and then `INSYNC`, load
 * balancers an alias can point at, and target groups with their health check paths. Records change
 * as the Route 53 adapter changes them: an alias A record to a load balancer's DNS name, a CNAME to
 * anything else.
 */

/** A CNAME's TTL as the Route 53 adapter writes it. */
const CNAME_TTL_SECONDS = 60;
/** ELB rejects a longer health check path. */
const MAX_HEALTH_CHECK_PATH = 1024;
const LOAD_BALANCER_DNS_NAME = /\.elb(\.[a-z0-9-]+)?\.amazonaws\.com$/;

export interface RecordSet {
  readonly name: string;
  readonly type: 'A' | 'CNAME';
  /** The alias target's DNS name (A) or the canonical name (CNAME). */
  readonly value: string;
  readonly aliasHostedZoneId?: string;
  readonly ttl?: number;
}

export interface RoutingChangeRecord {
  readonly changeId: string;
  readonly hostedZoneId: string;
  readonly comment: string;
  readonly record: RecordSet;
  readonly submittedAt: number;
  readonly insyncAt: number;
}

/** GetChange of an id Route 53 never issued; the adapter lets it through as the SDK names it. */
export class NoSuchChangeError extends Error {
  override name = 'NoSuchChange';
}

/** ELB's answer to an invalid parameter, such as a health check path not starting with `/`. */
export class ElbValidationError extends Error {
  override name = 'ValidationError';
}

/** Record names compare without case and without the root's trailing dot. */
function dnsName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

export class Route53World {
  private readonly zones = new Map<string, { name: string; records: Map<string, RecordSet> }>();
  private readonly loadBalancers = new Map<string, string>();
  private readonly targetGroups = new Map<string, { healthCheckPath: string }>();
  private readonly changes: RoutingChangeRecord[] = [];

  constructor(private readonly seed: string) {}

  addHostedZone(id: string, name: string): void {
    this.zones.set(id, { name: dnsName(name), records: new Map() });
  }

  setRecord(hostedZoneId: string, record: RecordSet): void {
    this.zones
      .get(hostedZoneId)
      ?.records.set(dnsName(record.name), { ...record, name: dnsName(record.name) });
  }

  /** A load balancer an alias can target, with the canonical hosted zone of its region and type. */
  addLoadBalancer(dnsNameOfBalancer: string, canonicalHostedZoneId: string): void {
    this.loadBalancers.set(dnsName(dnsNameOfBalancer), canonicalHostedZoneId);
  }

  addTargetGroup(arn: string, healthCheckPath: string): void {
    this.targetGroups.set(arn, { healthCheckPath });
  }

  /** The record as Route 53 holds it now (what name servers answer once its change is INSYNC). */
  record(hostedZoneId: string, name: string): RecordSet | undefined {
    return this.zones.get(hostedZoneId)?.records.get(dnsName(name));
  }

  healthCheckPath(targetGroupArn: string): string | undefined {
    return this.targetGroups.get(targetGroupArn)?.healthCheckPath;
  }

  /** Every change accepted, oldest first. */
  changeLog(): readonly RoutingChangeRecord[] {
    return [...this.changes];
  }

  isLoadBalancerName(target: string): boolean {
    return LOAD_BALANCER_DNS_NAME.test(dnsName(target).replace(/^dualstack\./, ''));
  }

  loadBalancerZone(target: string): string {
    const zone = this.loadBalancers.get(dnsName(target).replace(/^dualstack\./, ''));
    if (zone === undefined) {
      throw new LoadBalancerNotFoundError(
        `no load balancer has the DNS name ${target}; list its canonical hosted zone in loadBalancerHostedZones`,
      );
    }
    return zone;
  }

  /** ChangeResourceRecordSets with one UPSERT, arriving at `t`. */
  upsert(
    request: { hostedZoneId: string; recordName: string; comment: string },
    record: RecordSet,
    t: number,
  ): RoutingChange {
    const { hostedZoneId, recordName } = request;
    const subject = `${recordName} in hosted zone ${hostedZoneId}`;
    const zone = this.zones.get(hostedZoneId);
    if (!zone) throw new HostedZoneNotFoundError(`${subject}: No hosted zone found with ID: ${hostedZoneId}`);
    const name = dnsName(recordName);
    if (name !== zone.name && !name.endsWith(`.${zone.name}`)) {
      throw new InvalidRoutingChangeError(
        `${subject}: [RRSet with DNS name ${name}. is not permitted in zone ${zone.name}.]`,
      );
    }
    const existing = zone.records.get(name);
    if (existing && existing.type !== record.type) {
      throw new InvalidRoutingChangeError(
        `${subject}: [RRSet of type ${record.type} with DNS name ${name}. is not permitted because a conflicting RRSet of type ${existing.type} with the same DNS name already exists in zone ${zone.name}.]`,
      );
    }
    const serial = this.changes.length;
    const changeId = `C${hexId(13, this.seed, 'route53-change', serial).toUpperCase()}`;
    const propagation = between(ROUTE53_PROPAGATION_MIN_MS, ROUTE53_PROPAGATION_MAX_MS, this.seed, changeId);
    zone.records.set(name, { ...record, name });
    this.changes.push({
      changeId,
      hostedZoneId,
      comment: request.comment,
      record: { ...record, name },
      submittedAt: t,
      insyncAt: t + Math.round(propagation),
    });
    return { changeId, status: 'PENDING' };
  }

  changeStatus(changeId: string, t: number): RoutingChange {
    const id = changeId.replace(/^\/change\//, '');
    const change = this.changes.find((each) => each.changeId === id);
    if (!change)
      throw new NoSuchChangeError(
        `change ${changeId}: A change with the specified change ID does not exist.`,
      );
    return { changeId: id, status: t >= change.insyncAt ? 'INSYNC' : 'PENDING' };
  }

  modifyHealthCheckPath(targetGroupArn: string, path: string): void {
    const subject = `target group ${targetGroupArn}`;
    const targetGroup = this.targetGroups.get(targetGroupArn);
    if (!targetGroup) throw new TargetGroupNotFoundError(`${subject}: One or more target groups not found`);
    if (!path.startsWith('/') || path.length > MAX_HEALTH_CHECK_PATH) {
      throw new ElbValidationError(
        `${subject}: Health check path must begin with '/' and be at most 1024 characters`,
      );
    }
    targetGroup.healthCheckPath = path;
  }
}

/** `TrafficRouting` over the simulated Route 53 and ELB, with the Route 53 adapter's requests and error names. */
export class SimulatedTrafficRouting implements TrafficRouting {
  constructor(
    private readonly world: Route53World,
    private readonly run: OperationRunner,
  ) {}

  switchRecord(request: {
    hostedZoneId: string;
    recordName: string;
    target: string;
    comment: string;
  }): Promise<RoutingChange> {
    return this.run('switchRecord', [request], async (call) => {
      const { recordName, target } = request;
      let record: RecordSet;
      if (this.world.isLoadBalancerName(target)) {
        // The adapter looks the load balancer up for the canonical hosted zone of its alias.
        await call.spend(ELB_API_MS);
        record = {
          name: recordName,
          type: 'A',
          value: target,
          aliasHostedZoneId: this.world.loadBalancerZone(target),
        };
      } else {
        record = { name: recordName, type: 'CNAME', value: target, ttl: CNAME_TTL_SECONDS };
      }
      await call.spend(ROUTE53_API_MS);
      return this.world.upsert(request, record, call.now());
    });
  }

  changeStatus(changeId: string): Promise<RoutingChange> {
    return this.run('changeStatus', [changeId], async (call) => {
      await call.spend(ROUTE53_API_MS);
      return this.world.changeStatus(changeId, call.now());
    });
  }

  setHealthCheckPath(request: { targetGroupArn: string; path: string }): Promise<void> {
    return this.run('setHealthCheckPath', [request], async (call) => {
      await call.spend(ELB_API_MS);
      this.world.modifyHealthCheckPath(request.targetGroupArn, request.path);
    });
  }
}
