import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FAILOVER_SIGNAL } from '../../lambdas/adapters/aws/dr-failover-signal';
import { addAorStacks } from '../../lib/aor-app';
import { parseAorConfig } from '../../lib/config';
import { recoverySettings } from '../../lib/constructs/disaster-recovery-workflow';
import { exampleConfig, exampleContext, type SynthesizedAor, synthAor } from '../support/app';
import { SynthesizedPolicies } from '../support/iam-policies';

const ZONE = 'Z1234567890ABC';
const RECORD = 'api.phoenixrooivalk.mil';
const PRIMARY = 'phoenix-rooivalk-prod-1a2b3c4d5e.us-gov-west-1.elb.amazonaws.com';
const DR = 'phoenix-rooivalk-dr-6f7e8d9c0b.us-gov-east-1.elb.amazonaws.com';
const ALARM = `aor-dr-traffic-${RECORD}`;

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

function stepStatements(synthesized: SynthesizedAor): Statement[] {
  return new SynthesizedPolicies(synthesized)
    .identityPolicies(synthesized.stacks.disasterRecovery.workflow.step.role)
    .flatMap((p) => p.policy.Statement as Statement[]);
}

function actions(statements: Statement[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

describe('DR traffic failover (routing.mode = failover, the default)', () => {
  let synthesized: SynthesizedAor;
  let template: Template;
  beforeAll(() => {
    synthesized = synthAor();
    template = synthesized.templates.disasterRecovery;
  });
  const failover = () => {
    const construct = synthesized.stacks.disasterRecovery.trafficFailover;
    if (!construct) throw new Error('the example configuration deploys no traffic failover');
    return construct;
  };
  const logicalId = (construct: IConstruct) =>
    synthesized.stacks.disasterRecovery.getLogicalId(construct.node.defaultChild as CfnElement);

  it('deploys two failover CNAMEs with a 60 s TTL: PRIMARY to the primary site behind the health check, SECONDARY to the DR site', () => {
    const records = Object.values(template.findResources('AWS::Route53::RecordSet')).map((r) => r.Properties);
    expect(records).toHaveLength(2);
    const primary = records.find((r) => r.Failover === 'PRIMARY');
    const secondary = records.find((r) => r.Failover === 'SECONDARY');
    const cname = { HostedZoneId: ZONE, Name: `${RECORD}.`, Type: 'CNAME', TTL: '60' };
    expect(primary).toMatchObject({
      ...cname,
      ResourceRecords: [PRIMARY],
      HealthCheckId: { Ref: logicalId(failover().healthCheck) },
    });
    expect(secondary).toMatchObject({ ...cname, ResourceRecords: [DR] });
    expect(secondary).not.toHaveProperty('HealthCheckId');
    expect(primary?.SetIdentifier).not.toBe(secondary?.SetIdentifier);
    // GovCloud private zones alias only records of the same zone: never a load balancer.
    expect(records.some((r) => 'AliasTarget' in r)).toBe(false);
  });

  it('makes the PRIMARY follow the DR-region alarm, keeping its last status when no datapoint comes', () => {
    template.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: {
        Type: 'CLOUDWATCH_METRIC',
        AlarmIdentifier: { Name: { Ref: logicalId(failover().alarm) }, Region: 'us-gov-east-1' },
        InsufficientDataHealthStatus: 'LastKnownStatus',
      },
    });
  });

  it('alarms on one standard-resolution minute of the failover signal, ignores missing data, and tells ops both ways', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { AlarmName: ALARM },
    });
    const [alarm] = Object.values(alarms).map((a) => a.Properties);
    expect(alarm).toMatchObject({
      Namespace: FAILOVER_SIGNAL.namespace,
      MetricName: FAILOVER_SIGNAL.metricName,
      Dimensions: [{ Name: 'RecordName', Value: RECORD }],
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
    });
    const opsTopic = logicalId(synthesized.stacks.disasterRecovery.channels.topic('ops-team'));
    expect(alarm?.AlarmActions).toEqual([{ Ref: opsTopic }]);
    expect(alarm?.OKActions).toEqual([{ Ref: opsTopic }]);
  });

  it('lets CloudWatch publish to the encrypted ops topic for this alarm only', () => {
    const fromTheAlarm = {
      ArnEquals: {
        'aws:SourceArn': Match.objectLike({
          'Fn::Join': ['', Match.arrayWith([`:cloudwatch:us-gov-east-1:111122223333:alarm:${ALARM}`])],
        }),
      },
    };
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: Match.objectLike(fromTheAlarm),
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Condition: Match.objectLike(fromTheAlarm),
          }),
        ]),
      },
    });
  });

  it('grants the DR task the failover signal in its namespace only, and nothing of Route 53', () => {
    const statements = stepStatements(synthesized);
    expect(statements.find((s) => s.Sid === 'PublishTheFailoverSignal')).toEqual({
      Sid: 'PublishTheFailoverSignal',
      Effect: 'Allow',
      Action: 'cloudwatch:PutMetricData',
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': FAILOVER_SIGNAL.namespace } },
    });
    expect(actions(statements).filter((a) => a.startsWith('route53:'))).toEqual([]);
    expect(actions(statements)).not.toContain('elasticloadbalancing:DescribeLoadBalancers');
  });

  it('tells the task the mode, the record and the DR target', () => {
    expect(recoverySettings(exampleConfig()).routing).toEqual({
      mode: 'failover',
      hostedZoneId: ZONE,
      recordName: RECORD,
      drTarget: DR,
      ttlSeconds: 60,
      targetGroupArn:
        'arn:aws-us-gov:elasticloadbalancing:us-gov-east-1:111122223333:targetgroup/phoenix-rooivalk-dr/1234567890abcdef',
      healthCheckPath: '/health',
    });
  });
});

describe('routing.mode = upsert', () => {
  let synthesized: SynthesizedAor;
  beforeAll(() => {
    const context = exampleContext() as { routing: Record<string, unknown> };
    context.routing = { hostedZoneId: ZONE, recordName: RECORD, drTarget: DR, mode: 'upsert' };
    const cdkJson = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, '..', '..', 'cdk.json'), 'utf8'),
    );
    const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
    const stacks = addAorStacks(app, parseAorConfig(context));
    const assembly = app.synth();
    const template = (stackName: string) =>
      Template.fromJSON(assembly.getStackByName(stackName).template as Record<string, unknown>);
    synthesized = {
      app,
      stacks,
      outdir: assembly.directory,
      templates: {
        ledger: template(stacks.ledger.stackName),
        drLedger: template(stacks.drLedger.stackName),
        incidentResponse: template(stacks.incidentResponse.stackName),
        disasterRecovery: template(stacks.disasterRecovery.stackName),
      },
    };
  });

  it('deploys no failover records, health check or alarm', () => {
    const template = synthesized.templates.disasterRecovery;
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
    template.resourceCountIs('AWS::Route53::HealthCheck', 0);
    expect(
      template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { Namespace: FAILOVER_SIGNAL.namespace },
      }),
    ).toEqual({});
  });

  it('grants only the UPSERT of the one CNAME in the zone, and no failover signal', () => {
    const statements = stepStatements(synthesized);
    expect(statements.find((s) => s.Sid === 'UpsertTheRecord')).toEqual({
      Sid: 'UpsertTheRecord',
      Effect: 'Allow',
      Action: 'route53:ChangeResourceRecordSets',
      Resource: `arn:aws-us-gov:route53:::hostedzone/${ZONE}`,
      Condition: {
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': [RECORD],
          'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
          'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        },
      },
    });
    expect(actions(statements).filter((a) => a.startsWith('route53:'))).toEqual([
      'route53:ChangeResourceRecordSets',
    ]);
    expect(actions(statements)).not.toContain('cloudwatch:PutMetricData');
  });
});
