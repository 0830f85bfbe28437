import {
  canonicalDnsName,
  describeFailoverDatapoint,
  FAILOVER_SIGNAL,
  failoverAlarmName,
  failoverSignalDimensions,
} from '../../lambdas/adapters/aws/dr-failover-signal';
import {
  translateCloudWatchError,
  translateDnsError,
  translateElbError,
  translateRoute53Error,
} from '../../lambdas/adapters/aws/route53-traffic-routing';
import type {
  ResolvedTraffic,
  TrafficRouting,
  TrafficSwitch,
  TrafficSwitchRequest,
} from '../../lambdas/core/recovery/ports';
import type { OperationRunner, SimulatedCall } from './calls';
import { between, hexId } from './deterministic';
import {
  CLOUDWATCH_DATAPOINT_DELAY_MS,
  CLOUDWATCH_PUT_METRIC_DATA_MS,
  ELB_API_MS,
  ROUTE53_ALARM_READ_INTERVAL_MS,
  ROUTE53_API_MS,
  ROUTE53_PROPAGATION_MAX_MS,
  ROUTE53_PROPAGATION_MIN_MS,
  VPC_DNS_QUERY_MS,
} from './durations';
import { EndpointTimeoutError, UNANSWERED_CALL_MS } from './region-outage';

/**
 * Simulated Route 53 in GovCloud, the DR region's CloudWatch and Elastic Load Balancing, for the
 * switch to the DR site. Private hosted zones hold CNAMEs only (GovCloud aliases no load balancer):
 * a simple record, or a failover pair whose PRIMARY follows a health check. A health check follows
 * an alarm's data stream as Route 53 does: it re-reads it every ROUTE53_ALARM_READ_INTERVAL_MS, a
 * datapoint counts once its minute has ended, and a minute without data keeps the last status. Name
 * servers answer by health; a VPC's resolver, kept warm by clients, refetches each answer when its TTL
 * runs out. The control plane (record changes, `PENDING` 30-60 s until `INSYNC`) lives in
 * us-gov-west-1; the data plane and each region's CloudWatch, ELB and resolver answer while the
 * region they live in is up (`setRegionReachable`, which `regionOutage` drives).
 */

/** GovCloud signs Route 53 API calls for us-gov-west-1 wherever the caller runs. */
const ROUTE53_CONTROL_PLANE_REGION = 'us-gov-west-1';
/** Where an API call goes: a host, homed in a region. */
interface Endpoint {
  readonly region: string;
  readonly host: string;
}
/** The partition's one Route 53 endpoint. */
const ROUTE53_CONTROL_PLANE: Endpoint = {
  region: ROUTE53_CONTROL_PLANE_REGION,
  host: 'route53.us-gov.amazonaws.com',
};
/** ELB rejects a longer health check path. */
const MAX_HEALTH_CHECK_PATH = 1024;
const SECOND = 1_000;

/** A CNAME as a zone holds it: alone, or one of a failover pair. */
export interface RecordSet {
  readonly name: string;
  /** The canonical name it answers. */
  readonly value: string;
  readonly ttlSeconds: number;
  readonly failover?: 'PRIMARY' | 'SECONDARY';
  readonly healthCheckId?: string;
}

interface RecordVersion {
  /** From when name servers answer it (a change's INSYNC time; -Infinity for what was deployed). */
  readonly from: number;
  readonly sets: readonly RecordSet[];
}

interface Zone {
  readonly name: string;
  /** Regions whose VPC is associated with the private zone: their resolvers answer it. */
  readonly vpcRegions: ReadonlySet<string>;
  readonly records: Map<string, RecordVersion[]>;
}

/** The alarm a health check follows: its metric's series (in the alarm's region), period and threshold. */
interface Alarm {
  readonly seriesKey: string;
  readonly periodMs: number;
  readonly threshold: number;
}

/**
 * A CLOUDWATCH_METRIC health check, with the one insufficient-data status the DR stack deploys
 * (FAILOVER_SIGNAL.insufficientDataHealthStatus, LastKnownStatus).
 */
interface HealthCheck {
  readonly alarm: Alarm;
}

interface Datapoint {
  /** When PutMetricData was accepted; the datapoint's timestamp too. */
  readonly t: number;
  readonly value: number;
}

/** An SDK-shaped refusal (`name` is the service's error code), for the real adapter's translation. */
export class SimulatedServiceError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

/** What node:dns rejects with: the c-ares code in `code`. */
export class SimulatedDnsError extends Error {
  constructor(
    readonly code: string,
    hostname: string,
  ) {
    super(`queryCname ${code} ${hostname}`);
  }
}

function seriesKey(
  region: string,
  metric: { namespace: string; metricName: string; dimensions: Record<string, string> },
) {
  const dimensions = Object.entries(metric.dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`);
  return [region, metric.namespace, metric.metricName, ...dimensions].join('|');
}

function isInZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

export class Route53World {
  private readonly zones = new Map<string, Zone>();
  private readonly healthChecks = new Map<string, HealthCheck>();
  private readonly metrics = new Map<string, Datapoint[]>();
  private readonly targetGroups = new Map<string, { healthCheckPath: string }>();
  private readonly unreachable = new Set<string>();
  private changes = 0;
  /** The latest moment anything changed: a datapoint published, a change INSYNC. */
  private lastEventAt = 0;

  constructor(private readonly seed: string) {}

  addHostedZone(id: string, name: string, vpcRegions: readonly string[]): void {
    this.zones.set(id, { name: canonicalDnsName(name), vpcRegions: new Set(vpcRegions), records: new Map() });
  }

  /** A simple CNAME that was there before the simulation starts. */
  setRecord(hostedZoneId: string, record: Omit<RecordSet, 'failover' | 'healthCheckId'>): void {
    const zone = this.zone(hostedZoneId);
    this.checkCnameAllowed(zone, record.name);
    const name = canonicalDnsName(record.name);
    zone.records.set(name, [{ from: Number.NEGATIVE_INFINITY, sets: [{ ...record, name }] }]);
  }

  /**
   * What lib/constructs/dr-traffic-failover.ts deploys, from the same definition of the signal: the
   * alarm in `alarmRegion`, the health check following it, and the failover pair.
   */
  deployFailover(request: {
    hostedZoneId: string;
    recordName: string;
    primaryTarget: string;
    drTarget: string;
    ttlSeconds: number;
    alarmRegion: string;
  }): void {
    const { hostedZoneId, recordName, ttlSeconds } = request;
    const zone = this.zone(hostedZoneId);
    this.checkCnameAllowed(zone, recordName);
    const name = canonicalDnsName(recordName);
    const healthCheckId = `hc-${failoverAlarmName(name)}`;
    this.healthChecks.set(healthCheckId, {
      alarm: {
        seriesKey: seriesKey(request.alarmRegion, {
          namespace: FAILOVER_SIGNAL.namespace,
          metricName: FAILOVER_SIGNAL.metricName,
          dimensions: failoverSignalDimensions(name),
        }),
        periodMs: FAILOVER_SIGNAL.periodSeconds * SECOND,
        threshold: FAILOVER_SIGNAL.threshold,
      },
    });
    zone.records.set(name, [
      {
        from: Number.NEGATIVE_INFINITY,
        sets: [
          { name, value: request.primaryTarget, ttlSeconds, failover: 'PRIMARY', healthCheckId },
          { name, value: request.drTarget, ttlSeconds, failover: 'SECONDARY' },
        ],
      },
    ]);
  }

  addTargetGroup(arn: string, healthCheckPath: string): void {
    this.targetGroups.set(arn, { healthCheckPath });
  }

  healthCheckPath(targetGroupArn: string): string | undefined {
    return this.targetGroups.get(targetGroupArn)?.healthCheckPath;
  }

  /** A region goes dark (false) or comes back (true): its endpoints stop answering. */
  setRegionReachable(region: string, reachable: boolean): void {
    if (reachable) this.unreachable.delete(region);
    else this.unreachable.add(region);
  }

  isReachable(region: string): boolean {
    return !this.unreachable.has(region);
  }

  /** What of this world lives in a region, in words, for an outage's description. */
  servicesIn(region: string): string[] {
    return region === ROUTE53_CONTROL_PLANE_REGION
      ? ["Route 53's control plane", 'CloudWatch', 'Elastic Load Balancing', "the VPC's resolver"]
      : ['CloudWatch', 'Elastic Load Balancing', "the VPC's resolver"];
  }

  /**
   * The record name servers answer at `at` (for a failover pair, the member its health check
   * selects); without `at`, once every datapoint and change so far has taken effect.
   */
  record(hostedZoneId: string, name: string, at?: number): RecordSet | undefined {
    const zone = this.zones.get(hostedZoneId);
    const versions = zone?.records.get(canonicalDnsName(name));
    return versions && this.answer(versions, at ?? this.settledAt());
  }

  /** Whether Route 53 considers the health check healthy at `t`: the status of its last read. */
  private healthy(healthCheckId: string, t: number): boolean {
    const check = this.healthChecks.get(healthCheckId);
    if (!check)
      throw new SimulatedServiceError(
        'NoSuchHealthCheck',
        `No health check exists with the ID ${healthCheckId}`,
      );
    const { alarm } = check;
    const interval = ROUTE53_ALARM_READ_INTERVAL_MS;
    const phase = between(0, interval, this.seed, 'health-check-read', healthCheckId);
    const read = Math.floor((t - phase) / interval) * interval + phase;
    // At a read, each minute that has ended holds the datapoints CloudWatch had made visible by then.
    const visible = (this.metrics.get(alarm.seriesKey) ?? []).filter(
      (point) =>
        point.t + CLOUDWATCH_DATAPOINT_DELAY_MS <= read &&
        (Math.floor(point.t / alarm.periodMs) + 1) * alarm.periodMs <= read,
    );
    const maximumOf = (period: number) =>
      Math.max(...visible.filter((p) => Math.floor(p.t / alarm.periodMs) === period).map((p) => p.value));
    // A minute without data is insufficient data: the last minute that had some decides (LastKnownStatus),
    // and a new health check with no last known status is healthy.
    const periods = visible.map((p) => Math.floor(p.t / alarm.periodMs));
    return periods.length === 0 || maximumOf(Math.max(...periods)) < alarm.threshold;
  }

  /** PutMetricData accepted at `t` by CloudWatch in `region`. */
  putMetricData(
    region: string,
    metric: { namespace: string; metricName: string; dimensions: Record<string, string>; value: number },
    t: number,
  ): void {
    const key = seriesKey(region, metric);
    this.metrics.set(key, [...(this.metrics.get(key) ?? []), { t, value: metric.value }]);
    this.lastEventAt = Math.max(this.lastEventAt, t);
  }

  /** ChangeResourceRecordSets with one UPSERT of a simple CNAME, accepted at `t`; returns the change id. */
  upsert(request: { hostedZoneId: string; record: RecordSet }, t: number): string {
    const { hostedZoneId, record } = request;
    const zone = this.zone(hostedZoneId);
    const name = canonicalDnsName(record.name);
    if (!isInZone(name, zone.name)) {
      throw new SimulatedServiceError(
        'InvalidChangeBatch',
        `[RRSet with DNS name ${name}. is not permitted in zone ${zone.name}.]`,
      );
    }
    this.checkCnameAllowed(zone, name);
    const versions = zone.records.get(name) ?? [];
    if (versions.at(-1)?.sets.some((set) => set.failover !== undefined)) {
      throw new SimulatedServiceError(
        'InvalidChangeBatch',
        `[RRSet with DNS name ${name}., type CNAME cannot be created as other RRSets exist with the same name and type.]`,
      );
    }
    const changeId = `C${hexId(13, this.seed, 'route53-change', this.changes).toUpperCase()}`;
    this.changes += 1;
    const insyncAt =
      t + Math.round(between(ROUTE53_PROPAGATION_MIN_MS, ROUTE53_PROPAGATION_MAX_MS, this.seed, changeId));
    zone.records.set(name, [...versions, { from: insyncAt, sets: [{ ...record, name }] }]);
    this.lastEventAt = Math.max(this.lastEventAt, insyncAt);
    return changeId;
  }

  /**
   * What a resolver in a VPC of `region` answers at `t`. Clients keep its cache warm, so it refetches
   * an answer from the name servers each time the answer's TTL runs out.
   */
  resolveCname(name: string, region: string, t: number): string {
    const wanted = canonicalDnsName(name);
    const zone = [...this.zones.values()]
      .filter((each) => each.vpcRegions.has(region) && isInZone(wanted, each.name))
      .sort((a, b) => b.name.length - a.name.length)[0];
    const versions = zone?.records.get(wanted);
    const current = versions && this.answer(versions, t);
    // Outside every associated zone the resolver asks the internet's DNS, which does not know the name.
    if (!versions || !current) throw new SimulatedDnsError('ENOTFOUND', name);
    const ttl = current.ttlSeconds * SECOND;
    const phase = between(0, ttl, this.seed, 'resolver-cache', region, wanted);
    const fetchedAt = Math.floor((t - phase) / ttl) * ttl + phase;
    return (this.answer(versions, fetchedAt) ?? current).value;
  }

  modifyHealthCheckPath(targetGroupArn: string, path: string): void {
    const targetGroup = this.targetGroups.get(targetGroupArn);
    if (!targetGroup)
      throw new SimulatedServiceError('TargetGroupNotFound', 'One or more target groups not found');
    if (!path.startsWith('/') || path.length > MAX_HEALTH_CHECK_PATH) {
      throw new SimulatedServiceError(
        'ValidationError',
        `target group ${targetGroupArn}: Health check path must begin with '/' and be at most 1024 characters`,
      );
    }
    targetGroup.healthCheckPath = path;
  }

  private answer(versions: readonly RecordVersion[], t: number): RecordSet | undefined {
    const sets = versions.filter((version) => version.from <= t).at(-1)?.sets ?? [];
    const primary = sets.find((set) => set.failover === 'PRIMARY');
    if (!primary) return sets[0];
    return primary.healthCheckId === undefined || this.healthy(primary.healthCheckId, t)
      ? primary
      : sets.find((set) => set.failover === 'SECONDARY');
  }

  /** When everything so far has taken effect: a datapoint's minute, a read and the INSYNC are past. */
  private settledAt(): number {
    return (
      this.lastEventAt +
      2 * FAILOVER_SIGNAL.periodSeconds * SECOND +
      ROUTE53_ALARM_READ_INTERVAL_MS +
      CLOUDWATCH_DATAPOINT_DELAY_MS
    );
  }

  private zone(hostedZoneId: string): Zone {
    const zone = this.zones.get(hostedZoneId);
    if (!zone)
      throw new SimulatedServiceError('NoSuchHostedZone', `No hosted zone found with ID: ${hostedZoneId}`);
    return zone;
  }

  /** RFC 1034: a CNAME cannot share its name with the zone's SOA and NS records. */
  private checkCnameAllowed(zone: Zone, recordName: string): void {
    const name = canonicalDnsName(recordName);
    if (name === zone.name) {
      throw new SimulatedServiceError(
        'InvalidChangeBatch',
        `[RRSet of type CNAME with DNS name ${name}. is not permitted at apex in zone ${zone.name}.]`,
      );
    }
  }
}

/**
 * `TrafficRouting` over the simulated services, as the DR task in `region` calls them: the real
 * adapter's requests, its error translation, and its time.
 */
export class SimulatedTrafficRouting implements TrafficRouting {
  constructor(
    private readonly world: Route53World,
    private readonly region: string,
    private readonly run: OperationRunner,
  ) {}

  sendTrafficToDrSite(request: TrafficSwitchRequest): Promise<TrafficSwitch> {
    return this.run('sendTrafficToDrSite', [request], async (call) => {
      const { recordName } = request;
      if (request.mode === 'failover') {
        const translate = translateCloudWatchError(`the failover signal of ${recordName}`);
        await this.reach(call, this.regional('monitoring'), CLOUDWATCH_PUT_METRIC_DATA_MS, translate);
        this.world.putMetricData(
          this.region,
          {
            namespace: FAILOVER_SIGNAL.namespace,
            metricName: FAILOVER_SIGNAL.metricName,
            dimensions: failoverSignalDimensions(recordName),
            value: FAILOVER_SIGNAL.toDrSite,
          },
          call.now(),
        );
        return { mode: 'failover', reference: describeFailoverDatapoint(recordName, new Date(call.now())) };
      }
      const translate = translateRoute53Error(`${recordName} in hosted zone ${request.hostedZoneId}`);
      await this.reach(call, ROUTE53_CONTROL_PLANE, ROUTE53_API_MS, translate);
      const record = { name: recordName, value: request.drTarget, ttlSeconds: request.ttlSeconds };
      const changeId = translated(translate, () =>
        this.world.upsert({ hostedZoneId: request.hostedZoneId, record }, call.now()),
      );
      return { mode: 'upsert', reference: changeId };
    });
  }

  trafficStatus(request: { recordName: string; drTarget: string }): Promise<ResolvedTraffic> {
    return this.run('trafficStatus', [request], async (call) => {
      const translate = translateDnsError(request.recordName);
      if (!this.world.isReachable(this.region)) {
        await call.spend(UNANSWERED_CALL_MS);
        throw translate(new SimulatedDnsError('ETIMEOUT', request.recordName));
      }
      await call.spend(VPC_DNS_QUERY_MS);
      const answer = translated(translate, () =>
        this.world.resolveCname(request.recordName, this.region, call.now()),
      );
      return {
        answer: canonicalDnsName(answer),
        onDrSite: canonicalDnsName(answer) === canonicalDnsName(request.drTarget),
      };
    });
  }

  setHealthCheckPath(request: { targetGroupArn: string; path: string }): Promise<void> {
    return this.run('setHealthCheckPath', [request], async (call) => {
      const translate = translateElbError(`target group ${request.targetGroupArn}`);
      await this.reach(call, this.regional('elasticloadbalancing'), ELB_API_MS, translate);
      translated(translate, () => this.world.modifyHealthCheckPath(request.targetGroupArn, request.path));
    });
  }

  /** A service's FIPS endpoint in the task's region, as the SDK calls it with AWS_USE_FIPS_ENDPOINT. */
  private regional(service: string): Endpoint {
    return { region: this.region, host: `${service}-fips.${this.region}.amazonaws.com` };
  }

  /** Spends a call's time at an endpoint; one whose region is down costs the SDK's retries, then times out. */
  private async reach(
    call: SimulatedCall,
    endpoint: Endpoint,
    ms: number,
    translate: (error: unknown) => unknown,
  ): Promise<void> {
    if (this.world.isReachable(endpoint.region)) {
      await call.spend(ms);
      return;
    }
    await call.spend(UNANSWERED_CALL_MS);
    throw translate(new EndpointTimeoutError(`connect ETIMEDOUT ${endpoint.host}:443`));
  }
}

/** Runs a world operation and throws its refusal as the real adapter would name it. */
function translated<T>(translate: (error: unknown) => unknown, operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    throw translate(error);
  }
}
