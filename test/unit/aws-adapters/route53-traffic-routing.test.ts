import {
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupCommand,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  InvalidChangeBatch,
  NoSuchHostedZone,
  PriorRequestNotComplete,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsThrottledError } from '../../../lambdas/adapters/aws/aws-errors';
import {
  HostedZoneNotFoundError,
  InvalidRoutingChangeError,
  LoadBalancerNotFoundError,
  Route53ThrottledError,
  Route53TrafficRouting,
  TargetGroupNotFoundError,
} from '../../../lambdas/adapters/aws/route53-traffic-routing';

const ZONE = 'Z1234567890ABC';
const RECORD = 'api.phoenix-rooivalk.example.gov';
const ALB_DNS = 'phoenix-rooivalk-dr-1234567890.us-gov-east-1.elb.amazonaws.com';
const NLB_DNS = 'phoenix-rooivalk-dr-nlb-0123456789abcdef.elb.us-gov-east-1.amazonaws.com';
/** The canonical hosted zones Route 53 keeps for load balancers in us-gov-east-1. */
const ALB_ZONE = 'Z166TLBEWOO7G0';
const NLB_ZONE = 'Z1ZSMQQ6Q24QQ8';
const TARGET_GROUP_ARN =
  'arn:aws-us-gov:elasticloadbalancing:us-gov-east-1:123456789012:targetgroup/phoenix-rooivalk-dr/1234567890abcdef';
const $metadata = {};

const route53 = mockClient(Route53Client);
const elb = mockClient(ElasticLoadBalancingV2Client);
// Route 53 is one global endpoint per partition; in GovCloud it signs for us-gov-west-1.
const route53Client = new Route53Client({ region: 'us-gov-west-1' });
const elbClient = new ElasticLoadBalancingV2Client({ region: 'us-gov-east-1' });
const routing = new Route53TrafficRouting(route53Client, elbClient);

const submitted = {
  ChangeInfo: {
    Id: '/change/C2682N5HXP0BZ4',
    Status: 'PENDING' as const,
    SubmittedAt: new Date('2026-11-05T10:00:00Z'),
  },
};

function switchTo(target: string) {
  return routing.switchRecord({
    hostedZoneId: ZONE,
    recordName: RECORD,
    target,
    comment: 'AOR DR run dr-1: to us-gov-east-1',
  });
}

beforeEach(() => {
  route53.reset();
  elb.reset();
  route53.on(ChangeResourceRecordSetsCommand).resolves(submitted);
});

describe('switchRecord', () => {
  it('UPSERTs a CNAME with a 60 s TTL for a target that is not a load balancer, and strips /change/', async () => {
    const change = await switchTo('dr.phoenix-rooivalk.example.gov');

    expect(change).toEqual({ changeId: 'C2682N5HXP0BZ4', status: 'PENDING' });
    expect(route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
    expect(route53).toHaveReceivedCommandWith(ChangeResourceRecordSetsCommand, {
      HostedZoneId: ZONE,
      ChangeBatch: {
        Comment: 'AOR DR run dr-1: to us-gov-east-1',
        Changes: [
          {
            Action: 'UPSERT',
            ResourceRecordSet: {
              Name: RECORD,
              Type: 'CNAME',
              TTL: 60,
              ResourceRecords: [{ Value: 'dr.phoenix-rooivalk.example.gov' }],
            },
          },
        ],
      },
    });
    expect(elb.calls()).toHaveLength(0);
  });

  it('aliases an Application Load Balancer, finding its canonical hosted zone across DescribeLoadBalancers pages', async () => {
    elb
      .on(DescribeLoadBalancersCommand)
      .resolvesOnce({
        LoadBalancers: [
          { DNSName: 'other-1.us-gov-east-1.elb.amazonaws.com', CanonicalHostedZoneId: 'ZOTHER' },
        ],
        NextMarker: 'page-2',
      })
      .resolvesOnce({ LoadBalancers: [{ DNSName: ALB_DNS, CanonicalHostedZoneId: ALB_ZONE }] });

    await switchTo(`dualstack.${ALB_DNS.toUpperCase()}.`);

    expect(elb.commandCalls(DescribeLoadBalancersCommand).map((call) => call.args[0].input)).toEqual([
      { Marker: undefined, PageSize: 400 },
      { Marker: 'page-2', PageSize: 400 },
    ]);
    expect(
      route53.commandCalls(ChangeResourceRecordSetsCommand)[0]?.args[0].input.ChangeBatch?.Changes,
    ).toEqual([
      {
        Action: 'UPSERT',
        ResourceRecordSet: {
          Name: RECORD,
          Type: 'A',
          AliasTarget: {
            HostedZoneId: ALB_ZONE,
            DNSName: `dualstack.${ALB_DNS.toUpperCase()}.`,
            EvaluateTargetHealth: false,
          },
        },
      },
    ]);
  });

  it('aliases a Network Load Balancer (elb.<region> form) from the configured zones without asking ELB', async () => {
    const configured = new Route53TrafficRouting(route53Client, elbClient, {
      loadBalancerHostedZones: { [NLB_DNS]: NLB_ZONE },
    });

    await configured.switchRecord({
      hostedZoneId: ZONE,
      recordName: RECORD,
      target: NLB_DNS,
      comment: 'switch',
    });

    expect(elb.calls()).toHaveLength(0);
    expect(
      route53.commandCalls(ChangeResourceRecordSetsCommand)[0]?.args[0].input.ChangeBatch?.Changes,
    ).toEqual([
      {
        Action: 'UPSERT',
        ResourceRecordSet: {
          Name: RECORD,
          Type: 'A',
          AliasTarget: { HostedZoneId: NLB_ZONE, DNSName: NLB_DNS, EvaluateTargetHealth: false },
        },
      },
    ]);
  });

  it('refuses a load balancer DNS name that no load balancer has, changing nothing', async () => {
    elb.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [] });

    await expect(switchTo(ALB_DNS)).rejects.toThrow(LoadBalancerNotFoundError);
    expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
  });

  it('keeps the comment within the 256 characters Route 53 accepts', async () => {
    await routing.switchRecord({
      hostedZoneId: ZONE,
      recordName: RECORD,
      target: 'dr.example.gov',
      comment: 'x'.repeat(300),
    });

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
      error: new InvalidChangeBatch({ message: 'conflicting RRSet of type CNAME', $metadata }),
      expected: InvalidRoutingChangeError,
    },
  ])('maps $error.name to $expected.name', async ({ error, expected }) => {
    route53.on(ChangeResourceRecordSetsCommand).rejects(error);

    const failure = await switchTo('dr.example.gov').catch((thrown: unknown) => thrown);

    expect(failure).toBeInstanceOf(expected);
    expect(failure).toMatchObject({ name: expected.name, cause: error });
  });

  it('maps ELB throttling during the lookup to the retryable AwsThrottledError', async () => {
    elb
      .on(DescribeLoadBalancersCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));

    await expect(switchTo(ALB_DNS)).rejects.toMatchObject({ name: 'AwsThrottledError', retryable: true });
  });
});

describe('changeStatus', () => {
  it('reads the change by id and reports INSYNC once propagated', async () => {
    route53.on(GetChangeCommand).resolves({
      ChangeInfo: {
        Id: '/change/C2682N5HXP0BZ4',
        Status: 'INSYNC',
        SubmittedAt: new Date('2026-11-05T10:00:00Z'),
      },
    });

    await expect(routing.changeStatus('C2682N5HXP0BZ4')).resolves.toEqual({
      changeId: 'C2682N5HXP0BZ4',
      status: 'INSYNC',
    });
    expect(route53).toHaveReceivedCommandWith(GetChangeCommand, { Id: 'C2682N5HXP0BZ4' });
  });

  it('maps throttling to Route53ThrottledError', async () => {
    route53.on(GetChangeCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));

    await expect(routing.changeStatus('C2682N5HXP0BZ4')).rejects.toThrow(Route53ThrottledError);
  });
});

describe('setHealthCheckPath', () => {
  it('modifies the target group health check path', async () => {
    elb.on(ModifyTargetGroupCommand).resolves({});

    await routing.setHealthCheckPath({ targetGroupArn: TARGET_GROUP_ARN, path: '/health' });

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

    const failure = await routing
      .setHealthCheckPath({ targetGroupArn: TARGET_GROUP_ARN, path: '/health' })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TargetGroupNotFoundError);
    expect(failure).toMatchObject({ name: 'TargetGroupNotFoundError', cause: notFound });

    await expect(
      routing.setHealthCheckPath({ targetGroupArn: TARGET_GROUP_ARN, path: '/health' }),
    ).rejects.toThrow(AwsThrottledError);
  });
});
