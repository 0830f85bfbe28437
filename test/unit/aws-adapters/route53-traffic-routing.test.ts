import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupCommand,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  ChangeResourceRecordSetsCommand,
  InvalidChangeBatch,
  NoSuchHostedZone,
  PriorRequestNotComplete,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsThrottledError } from '../../../lambdas/adapters/aws/aws-errors';
import { CloudWatchThrottledError } from '../../../lambdas/adapters/aws/cloudwatch-metrics-reader';
import {
  type CnameResolver,
  DnsResolverUnavailableError,
  HostedZoneNotFoundError,
  InvalidRoutingChangeError,
  Route53ControlPlaneUnreachableError,
  Route53ThrottledError,
  Route53TrafficRouting,
  RoutingRecordNotFoundError,
  TargetGroupNotFoundError,
} from '../../../lambdas/adapters/aws/route53-traffic-routing';
import type { TrafficSwitchRequest } from '../../../lambdas/core/recovery/ports';

const NOW = new Date('2026-11-05T10:00:00Z');
const ZONE = 'Z1234567890ABC';
const RECORD = 'api.phoenix-rooivalk.example.gov';
const PRIMARY = 'internal-phoenix-rooivalk-prod-1234567890.us-gov-west-1.elb.amazonaws.com';
const DR = 'internal-phoenix-rooivalk-dr-1234567890.us-gov-east-1.elb.amazonaws.com';
const TARGET_GROUP_ARN =
  'arn:aws-us-gov:elasticloadbalancing:us-gov-east-1:123456789012:targetgroup/phoenix-rooivalk-dr/1234567890abcdef';
const $metadata = {};

const cloudWatch = mockClient(CloudWatchClient);
const route53 = mockClient(Route53Client);
const elb = mockClient(ElasticLoadBalancingV2Client);

/** The VPC resolver's answers, in order; an Error is thrown as node:dns would. */
function resolverAnswering(...answers: (string[] | Error)[]): CnameResolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    resolveCname: (hostname) => {
      asked.push(hostname);
      const answer = answers.shift();
      if (answer === undefined) throw new Error('the test asked the resolver once too often');
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
}

function dnsError(code: string): Error {
  return Object.assign(new Error(`queryCname ${code} ${RECORD}`), { code, hostname: RECORD });
}

function routing(resolver: CnameResolver = resolverAnswering()) {
  return new Route53TrafficRouting({
    cloudWatch: new CloudWatchClient({ region: 'us-gov-east-1' }),
    // Route 53 is one global endpoint per partition; in GovCloud it signs for us-gov-west-1.
    route53: new Route53Client({ region: 'us-gov-west-1' }),
    elb: new ElasticLoadBalancingV2Client({ region: 'us-gov-east-1' }),
    resolver,
    clock: () => NOW,
  });
}

function request(mode: TrafficSwitchRequest['mode'], change: Partial<TrafficSwitchRequest> = {}) {
  return {
    mode,
    hostedZoneId: ZONE,
    recordName: RECORD,
    drTarget: DR,
    ttlSeconds: 60,
    comment: 'AOR disaster recovery DR-1',
    ...change,
  };
}

beforeEach(() => {
  cloudWatch.reset();
  route53.reset();
  elb.reset();
  cloudWatch.on(PutMetricDataCommand).resolves({});
  route53.on(ChangeResourceRecordSetsCommand).resolves({
    ChangeInfo: { Id: '/change/C2682N5HXP0BZ4', Status: 'PENDING', SubmittedAt: NOW },
  });
});

describe('sendTrafficToDrSite in failover mode', () => {
  it('publishes one standard-resolution datapoint of the failover signal, and calls no Route 53 API', async () => {
    const sent = await routing().sendTrafficToDrSite(
      request('failover', { recordName: `${RECORD.toUpperCase()}.` }),
    );

    expect(cloudWatch.commandCalls(PutMetricDataCommand).map((call) => call.args[0].input)).toEqual([
      {
        Namespace: 'AOR/TrafficFailover',
        MetricData: [
          {
            MetricName: 'SendTrafficToDrSite',
            Dimensions: [{ Name: 'RecordName', Value: RECORD }],
            Value: 1,
            Timestamp: NOW,
            StorageResolution: 60,
          },
        ],
      },
    ]);
    expect(route53.calls()).toHaveLength(0);
    expect(sent).toEqual({
      mode: 'failover',
      reference: `AOR/TrafficFailover SendTrafficToDrSite ${RECORD} = 1 at 2026-11-05T10:00:00.000Z`,
    });
  });

  it('maps CloudWatch throttling to the retryable CloudWatchThrottledError', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    cloudWatch.on(PutMetricDataCommand).rejects(throttled);

    const failure = await routing()
      .sendTrafficToDrSite(request('failover'))
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(CloudWatchThrottledError);
    expect(failure).toMatchObject({ name: 'CloudWatchThrottledError', retryable: true, cause: throttled });
  });
});

describe('sendTrafficToDrSite in upsert mode', () => {
  it('UPSERTs a CNAME with the configured TTL, never an alias, and returns the change id', async () => {
    const sent = await routing().sendTrafficToDrSite(request('upsert', { ttlSeconds: 30 }));

    expect(sent).toEqual({ mode: 'upsert', reference: 'C2682N5HXP0BZ4' });
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand).map((call) => call.args[0].input)).toEqual([
      {
        HostedZoneId: ZONE,
        ChangeBatch: {
          Comment: 'AOR disaster recovery DR-1',
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: RECORD,
                Type: 'CNAME',
                TTL: 30,
                ResourceRecords: [{ Value: DR }],
              },
            },
          ],
        },
      },
    ]);
    expect(cloudWatch.calls()).toHaveLength(0);
    expect(elb.calls()).toHaveLength(0);
  });

  it('keeps the comment within the 256 characters Route 53 accepts', async () => {
    await routing().sendTrafficToDrSite(request('upsert', { comment: 'x'.repeat(300) }));

    expect(
      route53.commandCalls(ChangeResourceRecordSetsCommand)[0]?.args[0].input.ChangeBatch?.Comment,
    ).toHaveLength(256);
  });

  it.each([
    {
      error: new PriorRequestNotComplete({ message: 'still applying', $metadata }),
      expected: Route53ThrottledError,
    },
    {
      error: Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }),
      expected: Route53ThrottledError,
    },
    {
      error: new NoSuchHostedZone({ message: 'No hosted zone found', $metadata }),
      expected: HostedZoneNotFoundError,
    },
    {
      error: new InvalidChangeBatch({ message: 'conflicting RRSet of type A', $metadata }),
      expected: InvalidRoutingChangeError,
    },
    {
      // What the SDK's HTTP handler throws when route53.us-gov.amazonaws.com never answers.
      error: Object.assign(new Error('connect ETIMEDOUT 52.94.0.1:443'), { name: 'TimeoutError' }),
      expected: Route53ControlPlaneUnreachableError,
    },
    {
      error: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      expected: Route53ControlPlaneUnreachableError,
    },
  ])('maps $error.name ($error.message) to $expected.name', async ({ error, expected }) => {
    route53.on(ChangeResourceRecordSetsCommand).rejects(error);

    const failure = await routing()
      .sendTrafficToDrSite(request('upsert'))
      .catch((thrown: unknown) => thrown);

    expect(failure).toBeInstanceOf(expected);
    expect(failure).toMatchObject({ name: expected.name, cause: error });
  });

  it('says, when the control plane does not answer, that only failover mode switches with us-gov-west-1 down', async () => {
    route53
      .on(ChangeResourceRecordSetsCommand)
      .rejects(Object.assign(new Error('timed out'), { name: 'TimeoutError' }));

    await expect(routing().sendTrafficToDrSite(request('upsert'))).rejects.toThrow(
      /homed in us-gov-west-1, so with that region down only routing.mode = failover can switch/,
    );
  });
});

describe('trafficStatus', () => {
  it('asks the VPC resolver for the CNAME and is on the DR site once it answers the DR target', async () => {
    const resolver = resolverAnswering([PRIMARY], [`${DR.toUpperCase()}.`]);
    const adapter = routing(resolver);

    await expect(adapter.trafficStatus({ recordName: RECORD, drTarget: DR })).resolves.toEqual({
      answer: PRIMARY,
      onDrSite: false,
    });
    await expect(adapter.trafficStatus({ recordName: RECORD, drTarget: `${DR}.` })).resolves.toEqual({
      answer: DR,
      onDrSite: true,
    });
    expect(resolver.asked).toEqual([RECORD, RECORD]);
    expect([...cloudWatch.calls(), ...route53.calls(), ...elb.calls()]).toHaveLength(0);
  });

  it.each([
    ['ENOTFOUND', RoutingRecordNotFoundError],
    ['ENODATA', RoutingRecordNotFoundError],
    ['ETIMEOUT', DnsResolverUnavailableError],
    ['ESERVFAIL', DnsResolverUnavailableError],
    ['ECONNREFUSED', DnsResolverUnavailableError],
  ])('maps the resolver’s %s to %o', async (code, expected) => {
    const error = dnsError(code);

    const failure = await routing(resolverAnswering(error))
      .trafficStatus({ recordName: RECORD, drTarget: DR })
      .catch((thrown: unknown) => thrown);

    expect(failure).toBeInstanceOf(expected);
    expect(failure).toMatchObject({ name: expected.name, cause: error });
  });

  it('names a missing association of the private hosted zone when the resolver has no CNAME', async () => {
    await expect(
      routing(resolverAnswering(dnsError('ENOTFOUND'))).trafficStatus({ recordName: RECORD, drTarget: DR }),
    ).rejects.toThrow(/private hosted zone associated with the DR VPC/);
    await expect(
      routing(resolverAnswering([])).trafficStatus({ recordName: RECORD, drTarget: DR }),
    ).rejects.toThrow(RoutingRecordNotFoundError);
  });
});

describe('setHealthCheckPath', () => {
  it('modifies the target group health check path', async () => {
    elb.on(ModifyTargetGroupCommand).resolves({});

    await routing().setHealthCheckPath({ targetGroupArn: TARGET_GROUP_ARN, path: '/health' });

    expect(elb.commandCalls(ModifyTargetGroupCommand).map((call) => call.args[0].input)).toEqual([
      { TargetGroupArn: TARGET_GROUP_ARN, HealthCheckPath: '/health' },
    ]);
  });

  it('maps a missing target group to TargetGroupNotFoundError and throttling to AwsThrottledError', async () => {
    const notFound = new TargetGroupNotFoundException({
      message: 'One or more target groups not found',
      $metadata,
    });
    elb
      .on(ModifyTargetGroupCommand)
      .rejectsOnce(notFound)
      .rejectsOnce(Object.assign(new Error('slow'), { name: 'Throttling' }));

    const failure = await routing()
      .setHealthCheckPath({ targetGroupArn: TARGET_GROUP_ARN, path: '/health' })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TargetGroupNotFoundError);
    expect(failure).toMatchObject({ name: 'TargetGroupNotFoundError', cause: notFound });

    await expect(
      routing().setHealthCheckPath({ targetGroupArn: TARGET_GROUP_ARN, path: '/health' }),
    ).rejects.toThrow(AwsThrottledError);
  });
});
