import { describe, expect, it } from 'vitest';
import { FAILOVER_SIGNAL, failoverSignalDimensions } from '../../../lambdas/adapters/aws/dr-failover-signal';
import {
  DnsResolverUnavailableError,
  HostedZoneNotFoundError,
  InvalidRoutingChangeError,
  Route53ControlPlaneUnreachableError,
  RoutingRecordNotFoundError,
  TargetGroupNotFoundError,
} from '../../../lambdas/adapters/aws/route53-traffic-routing';
import type { TrafficRouting, TrafficSwitchRequest } from '../../../lambdas/core/recovery/ports';
import {
  CLOUDWATCH_DATAPOINT_DELAY_MS,
  CLOUDWATCH_PUT_METRIC_DATA_MS,
  ROUTE53_ALARM_READ_INTERVAL_MS,
  ROUTE53_PROPAGATION_MAX_MS,
  ROUTE53_PROPAGATION_MIN_MS,
} from '../../../local/simulation/durations';
import { drTargetGroupArn, PHOENIX_ROOIVALK_DR_SITE } from '../../../local/simulation/phoenix-rooivalk-dr';
import type { SimulatedPlatform } from '../../../local/simulation/platform';
import { regionOutage, UNANSWERED_CALL_MS } from '../../../local/simulation/region-outage';
import type { SimulatedClock } from '../../../local/workflow/clock';
import { drSite, MINUTE, thrown } from './fixtures';

const SITE = PHOENIX_ROOIVALK_DR_SITE;
const PRIMARY = SITE.primaryLoadBalancer.dnsName;
const DR = SITE.drLoadBalancer.dnsName;
const TTL_MS = SITE.recordTtlSeconds * 1_000;
const SECOND = 1_000;

function request(mode: TrafficSwitchRequest['mode'], change: Partial<TrafficSwitchRequest> = {}) {
  return {
    mode,
    hostedZoneId: SITE.hostedZone.id,
    recordName: SITE.recordName,
    drTarget: DR,
    ttlSeconds: SITE.recordTtlSeconds,
    comment: 'DR-1: to us-gov-east-1',
    ...change,
  };
}

/** Asks the DR VPC's resolver every second until it answers the DR target; the time it took. */
async function untilOnDrSite(
  routing: TrafficRouting,
  clock: SimulatedClock,
  recordName: string = SITE.recordName,
) {
  const from = clock.now();
  for (;;) {
    const status = await routing.trafficStatus({ recordName, drTarget: DR });
    if (status.onDrSite) return clock.now() - from;
    expect(status.answer).toBe(PRIMARY);
    clock.advance(SECOND);
  }
}

/** When name servers start answering the DR target: the first second the record flips. */
function nameServersSwitchAt(platform: SimulatedPlatform, from: number): number {
  let t = from;
  while (platform.route53Record(SITE.hostedZone.id, SITE.recordName, t)?.value !== DR) t += SECOND;
  return t;
}

describe('simulated failover routing (routing.mode = failover)', () => {
  it('answers the primary site from the DR VPC until a run sends the traffic to the DR site', async () => {
    const { platform, clock, ports } = drSite();
    clock.advance(30 * MINUTE);

    expect(await ports.routing.trafficStatus({ recordName: SITE.recordName, drTarget: DR })).toEqual({
      answer: PRIMARY,
      onDrSite: false,
    });
    expect(platform.route53Record(SITE.hostedZone.id, SITE.recordName)).toMatchObject({
      value: PRIMARY,
      failover: 'PRIMARY',
      ttlSeconds: 60,
    });
  });

  it('fails over with one datapoint: the minute ends, a health check read sees it, the resolver’s copy expires', async () => {
    const { platform, clock, ports } = drSite();
    clock.advance(17 * SECOND);

    const sent = await ports.routing.sendTrafficToDrSite(request('failover'));
    const published = clock.now();
    expect(sent).toEqual({
      mode: 'failover',
      reference: `AOR/TrafficFailover SendTrafficToDrSite ${SITE.recordName} = 1 at ${new Date(published).toISOString()}`,
    });
    expect(published - CLOUDWATCH_PUT_METRIC_DATA_MS).toBe(platform.epoch + 17 * SECOND);
    // The drill's report reads the record once everything has taken effect.
    expect(platform.route53Record(SITE.hostedZone.id, SITE.recordName)?.value).toBe(DR);

    const minuteEnds = Math.ceil(published / MINUTE) * MINUTE;
    const switchedAt = nameServersSwitchAt(platform, published);
    expect(switchedAt).toBeGreaterThanOrEqual(
      Math.max(minuteEnds, published + CLOUDWATCH_DATAPOINT_DELAY_MS),
    );
    expect(switchedAt).toBeLessThanOrEqual(
      Math.max(minuteEnds, published + CLOUDWATCH_DATAPOINT_DELAY_MS) + ROUTE53_ALARM_READ_INTERVAL_MS,
    );
    const followed = await untilOnDrSite(ports.routing, clock);
    // The resolver keeps its copy of the primary's answer until the copy's TTL runs out (most of a
    // TTL with this drill's seed; a resolver without a cache would follow within the polling second).
    expect(published + followed - switchedAt).toBeGreaterThan(SECOND);
    expect(published + followed).toBeLessThanOrEqual(switchedAt + TTL_MS);
    // Within the bound the README gives: the minute, a read, the TTL.
    expect(followed).toBeLessThanOrEqual(
      MINUTE + CLOUDWATCH_DATAPOINT_DELAY_MS + ROUTE53_ALARM_READ_INTERVAL_MS + TTL_MS,
    );
  });

  it('keeps the DR site with no further datapoint (last known status), and fails back on a 0', async () => {
    const { platform, clock, ports } = drSite();
    await ports.routing.sendTrafficToDrSite(request('failover'));
    await untilOnDrSite(ports.routing, clock);

    clock.advance(6 * 60 * MINUTE);
    expect((await ports.routing.trafficStatus({ recordName: SITE.recordName, drTarget: DR })).onDrSite).toBe(
      true,
    );

    // An operator's fail-back: `aws cloudwatch put-metric-data … --value 0` in the DR region.
    const failBack = clock.now();
    platform.route53.putMetricData(
      SITE.region,
      {
        namespace: FAILOVER_SIGNAL.namespace,
        metricName: FAILOVER_SIGNAL.metricName,
        dimensions: failoverSignalDimensions(SITE.recordName),
        value: 0,
      },
      failBack,
    );
    expect(platform.route53Record(SITE.hostedZone.id, SITE.recordName)?.value).toBe(PRIMARY);
    expect(platform.route53Record(SITE.hostedZone.id, SITE.recordName, failBack)?.value).toBe(DR);
  });

  it('fails over with us-gov-west-1 down, where an UPSERT times out on the control plane', async () => {
    const { platform, clock, ports } = drSite();
    const outage = regionOutage(platform, 'us-gov-west-1');
    expect(outage.description).toBe(
      "us-gov-west-1 is down: Route 53's control plane, CloudWatch, Elastic Load Balancing, the VPC's resolver do not answer",
    );

    const startedAt = clock.now();
    const unreachable = await thrown(ports.routing.sendTrafficToDrSite(request('upsert')));
    expect(unreachable).toBeInstanceOf(Route53ControlPlaneUnreachableError);
    expect(unreachable.message).toContain('route53.us-gov.amazonaws.com');
    expect(clock.now() - startedAt).toBe(UNANSWERED_CALL_MS);

    expect((await ports.routing.sendTrafficToDrSite(request('failover'))).mode).toBe('failover');
    await untilOnDrSite(ports.routing, clock);
    expect(platform.calls.map((call) => [call.operation, call.error])).toContainEqual([
      'sendTrafficToDrSite',
      'Route53ControlPlaneUnreachableError',
    ]);

    outage.end();
    expect(platform.route53.isReachable('us-gov-west-1')).toBe(true);
  });

  it('cannot fail over or watch with the DR region itself down', async () => {
    const { platform, ports } = drSite();
    regionOutage(platform, SITE.region);

    expect((await thrown(ports.routing.sendTrafficToDrSite(request('failover')))).name).toBe('TimeoutError');
    expect(
      await thrown(ports.routing.trafficStatus({ recordName: SITE.recordName, drTarget: DR })),
    ).toBeInstanceOf(DnsResolverUnavailableError);
  });

  it('has no CNAME to answer where the zone is not associated with the VPC, or the record does not exist', async () => {
    const { platform, clock } = drSite();
    const elsewhere = platform.ports(clock).routing;
    platform.route53.addHostedZone('ZOTHERVPC', 'phoenixrooivalk.internal', ['us-gov-west-1']);
    platform.route53.setRecord('ZOTHERVPC', {
      name: 'api.phoenixrooivalk.internal',
      value: PRIMARY,
      ttlSeconds: 60,
    });

    for (const recordName of ['api.phoenixrooivalk.internal', 'nothing.phoenixrooivalk.mil']) {
      const error = await thrown(elsewhere.trafficStatus({ recordName, drTarget: DR }));
      expect(error).toBeInstanceOf(RoutingRecordNotFoundError);
      expect(error.message).toContain('ENOTFOUND');
    }
  });
});

describe('simulated record UPSERT (routing.mode = upsert)', () => {
  /** A DR site whose record is a simple CNAME, as upsert mode keeps it. */
  function simpleRecordSite() {
    const site = drSite();
    site.platform.route53.addHostedZone('ZSIMPLE', 'rooivalk.mil', ['us-gov-west-1', SITE.region]);
    site.platform.route53.setRecord('ZSIMPLE', { name: 'api.rooivalk.mil', value: PRIMARY, ttlSeconds: 60 });
    return site;
  }
  const upsert = (change: Partial<TrafficSwitchRequest> = {}) =>
    request('upsert', { hostedZoneId: 'ZSIMPLE', recordName: 'api.rooivalk.mil', ...change });

  it('changes the CNAME through the control plane: name servers have it once INSYNC, resolvers within a TTL more', async () => {
    const { platform, clock, ports } = simpleRecordSite();

    const sent = await ports.routing.sendTrafficToDrSite(upsert());
    const submittedAt = clock.now();
    expect(sent.mode).toBe('upsert');
    expect(sent.reference).toMatch(/^C[0-9A-F]{13}$/);
    expect(platform.route53Record('ZSIMPLE', 'api.rooivalk.mil.', submittedAt)?.value).toBe(PRIMARY);
    expect(
      platform.route53Record('ZSIMPLE', 'api.rooivalk.mil', submittedAt + ROUTE53_PROPAGATION_MAX_MS),
    ).toEqual({
      name: 'api.rooivalk.mil',
      value: DR,
      ttlSeconds: 60,
    });
    expect(
      platform.route53Record('ZSIMPLE', 'api.rooivalk.mil', submittedAt + ROUTE53_PROPAGATION_MIN_MS - 1)
        ?.value,
    ).toBe(PRIMARY);
    const followed = await untilOnDrSite(ports.routing, clock, 'api.rooivalk.mil');
    expect(followed).toBeGreaterThanOrEqual(ROUTE53_PROPAGATION_MIN_MS);
    expect(followed).toBeLessThanOrEqual(ROUTE53_PROPAGATION_MAX_MS + TTL_MS);
  });

  it.each([
    [
      'a record with failover records',
      { hostedZoneId: SITE.hostedZone.id, recordName: SITE.recordName },
      InvalidRoutingChangeError,
      'other RRSets exist',
    ],
    ['the zone apex', { recordName: 'rooivalk.mil' }, InvalidRoutingChangeError, 'not permitted at apex'],
    [
      'a name outside the zone',
      { recordName: 'api.example.mil' },
      InvalidRoutingChangeError,
      'not permitted in zone',
    ],
    ['a zone that does not exist', { hostedZoneId: 'Z999' }, HostedZoneNotFoundError, 'No hosted zone found'],
  ])('refuses an UPSERT of %s', async (_case, change, expected, message) => {
    const { platform, ports } = simpleRecordSite();

    const error = await thrown(ports.routing.sendTrafficToDrSite(upsert(change)));

    expect(error).toBeInstanceOf(expected);
    expect(error.message).toContain(message);
    expect(platform.route53Record('ZSIMPLE', 'api.rooivalk.mil')?.value).toBe(PRIMARY);
  });
});

describe('the DR target group', () => {
  it('records its health check path, refusing a missing group and a path without /', async () => {
    const { platform, ports } = drSite();
    const targetGroupArn = drTargetGroupArn(platform.layout);
    expect(targetGroupArn).toBe(
      'arn:aws-us-gov:elasticloadbalancing:us-gov-east-1:111122223333:targetgroup/phoenix-rooivalk-dr/1234567890abcdef',
    );
    expect(platform.route53.healthCheckPath(targetGroupArn)).toBe('/');
    await ports.routing.setHealthCheckPath({ targetGroupArn, path: '/health' });
    expect(platform.route53.healthCheckPath(targetGroupArn)).toBe('/health');
    expect(
      await thrown(
        ports.routing.setHealthCheckPath({ targetGroupArn: `${targetGroupArn}0`, path: '/health' }),
      ),
    ).toBeInstanceOf(TargetGroupNotFoundError);
    expect((await thrown(ports.routing.setHealthCheckPath({ targetGroupArn, path: 'health' }))).name).toBe(
      'ValidationError',
    );
  });
});
