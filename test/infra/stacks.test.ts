import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  LEDGER_STACK_NAMES,
  LEDGER_TABLE_NAME,
  LEDGER_WRITER_TAG,
  WORKFLOW_WRITERS,
  WRITER_ENVIRONMENT,
} from '../../lambdas/core/ledger/ledger-contract';
import type { AorStacks } from '../../lib/aor-app';
import { recoverySettings, recoveryRunLimitMinutes } from '../../lib/constructs/disaster-recovery-workflow';
import { exampleConfig, type SynthesizedAor, synthAor } from '../support/app';
import { SynthesizedPolicies } from '../support/iam-policies';

let synthesized: SynthesizedAor;
let templates: SynthesizedAor['templates'];
let stacks: AorStacks;

beforeAll(() => {
  synthesized = synthAor();
  templates = synthesized.templates;
  stacks = synthesized.stacks;
});

describe('stack placement', () => {
  it('puts a ledger in each region, incident response in the primary and DR in the DR region', () => {
    expect(
      Object.fromEntries(
        Object.entries(stacks).map(([key, stack]) => [key, [stack.stackName, stack.region]]),
      ),
    ).toEqual({
      ledger: [LEDGER_STACK_NAMES.primary, 'us-gov-west-1'],
      drLedger: [LEDGER_STACK_NAMES.dr, 'us-gov-east-1'],
      incidentResponse: ['AorIncidentResponse', 'us-gov-west-1'],
      disasterRecovery: ['AorDisasterRecovery', 'us-gov-east-1'],
    });
  });

  it('deploys each workflow after the ledger of its own region, and the ledgers on their own', () => {
    const names = (key: keyof AorStacks) => stacks[key].dependencies.map((d) => d.stackName).sort();
    expect(names('incidentResponse')).toEqual([LEDGER_STACK_NAMES.primary]);
    expect(names('disasterRecovery')).toEqual([LEDGER_STACK_NAMES.dr]);
    expect(names('ledger')).toEqual([]);
    expect(names('drLedger')).toEqual([]);
  });
});

describe('ledger writers', () => {
  let policies: SynthesizedPolicies;
  beforeAll(() => {
    policies = new SynthesizedPolicies(synthesized);
  });

  it("points the DR task at the DR region's ledger table, as its tagged writer", () => {
    const step = stacks.disasterRecovery.workflow.step;
    const fn =
      templates.disasterRecovery.toJSON().Resources[
        stacks.disasterRecovery.getLogicalId(step.function.node.defaultChild as CfnElement)
      ];
    const env = policies.resolve(step, fn.Properties.Environment.Variables) as Record<string, string>;
    expect(env[WRITER_ENVIRONMENT.tableName]).toBe(LEDGER_TABLE_NAME);
    expect(env[WRITER_ENVIRONMENT.writer]).toBe(WORKFLOW_WRITERS.disasterRecovery);
    expect(env).not.toHaveProperty('LEDGER_REGION');
    expect(JSON.stringify(fn.Properties.Environment.Variables)).toContain(`${LEDGER_STACK_NAMES.dr}:`);
    const appends = policies
      .identityPolicies(step.role)
      .flatMap((p) => p.policy.Statement)
      .find((s) => s.Sid === 'AppendAuditRecords');
    expect(appends?.Resource).toBe(
      `arn:aws-us-gov:dynamodb:us-gov-east-1:111122223333:table/${LEDGER_TABLE_NAME}`,
    );
    templates.disasterRecovery.hasResourceProperties('AWS::IAM::Role', {
      Tags: Match.arrayWith([{ Key: LEDGER_WRITER_TAG, Value: WORKFLOW_WRITERS.disasterRecovery }]),
    });
  });

  it("points every incident task at the primary region's ledger table, as its tagged writer", () => {
    const template = templates.incidentResponse.toJSON();
    for (const fn of Object.values(stacks.incidentResponse.workflow.functions)) {
      const resource =
        template.Resources[stacks.incidentResponse.getLogicalId(fn.function.node.defaultChild as CfnElement)];
      const env = policies.resolve(fn, resource.Properties.Environment.Variables) as Record<string, string>;
      expect(env[WRITER_ENVIRONMENT.writer], fn.node.path).toBe(WORKFLOW_WRITERS.incidentResponse);
      expect(JSON.stringify(resource.Properties.Environment.Variables)).toContain(
        `${LEDGER_STACK_NAMES.primary}:`,
      );
      const role =
        template.Resources[stacks.incidentResponse.getLogicalId(fn.role.node.defaultChild as CfnElement)];
      expect(role.Properties.Tags).toContainEqual({
        Key: LEDGER_WRITER_TAG,
        Value: WORKFLOW_WRITERS.incidentResponse,
      });
    }
  });

  it('has no Append function: nothing lets an invoker record any actor', () => {
    for (const [name, template] of Object.entries(templates)) {
      const functions = Object.values(template.findResources('AWS::Lambda::Function'));
      expect(
        functions.filter((f) => /append/i.test(String(f.Properties.Description))),
        name,
      ).toEqual([]);
      expect(Object.keys(template.toJSON().Outputs ?? {}), name).not.toContain('AppendFunctionArn');
    }
  });
});

describe.each(['ledger', 'drLedger', 'incidentResponse', 'disasterRecovery'] as const)(
  '%s stack baseline',
  (name) => {
    it('encrypts with rotating customer keys that are retained', () => {
      const template = templates[name];
      const keys = template.findResources('AWS::KMS::Key', {
        Properties: { KeySpec: Match.absent() },
      });
      expect(Object.keys(keys).length).toBeGreaterThan(0);
      for (const key of Object.values(keys)) {
        expect(key.Properties.EnableKeyRotation).toBe(true);
        expect(key.DeletionPolicy).toBe('Retain');
      }
    });

    it('protects every DynamoDB table: customer key, PITR, deletion protection', () => {
      for (const table of Object.values(templates[name].findResources('AWS::DynamoDB::Table'))) {
        expect(table.Properties.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
        expect(table.Properties.PointInTimeRecoverySpecification).toEqual({
          PointInTimeRecoveryEnabled: true,
        });
        expect(table.Properties.DeletionProtectionEnabled).toBe(true);
        expect(table.DeletionPolicy).toBe('Retain');
      }
    });

    it('blocks public access, logs access and requires TLS on every bucket', () => {
      const template = templates[name];
      const buckets = template.findResources('AWS::S3::Bucket');
      const policies = Object.values(template.findResources('AWS::S3::BucketPolicy'));
      for (const [logicalId, bucket] of Object.entries(buckets)) {
        expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        });
        const policy = policies.find((p) => p.Properties.Bucket.Ref === logicalId);
        expect(JSON.stringify(policy?.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
        const isLogDestination = Object.values(buckets).some(
          (other) => other.Properties.LoggingConfiguration?.DestinationBucketName?.Ref === logicalId,
        );
        if (!isLogDestination) expect(bucket.Properties.LoggingConfiguration, logicalId).toBeDefined();
      }
    });

    it('encrypts every SNS topic with a customer key', () => {
      for (const topic of Object.values(templates[name].findResources('AWS::SNS::Topic'))) {
        expect(topic.Properties.KmsMasterKeyId).toBeDefined();
      }
    });
  },
);

describe('notification channels', () => {
  it('gives incident response a topic for every playbook channel', () => {
    const names = Object.values(templates.incidentResponse.findResources('AWS::SNS::Topic')).map(
      (topic) => topic.Properties.TopicName,
    );
    expect(names.sort()).toEqual(
      [
        'aor-blockchain-team',
        'aor-database-team',
        'aor-incident-commander',
        'aor-leadership',
        'aor-ops-team',
        'aor-security-team',
      ].sort(),
    );
  });

  it('gives disaster recovery its own ops and escalation topics in the DR region', () => {
    templates.disasterRecovery.resourceCountIs('AWS::SNS::Topic', 3);
    templates.disasterRecovery.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'aor-ops-team' });
  });
});

describe('task network', () => {
  it('lets Lambda tasks out on HTTPS only', () => {
    templates.incidentResponse.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: 'vpc-0a1b2c3d4e5f60001',
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }],
    });
    templates.disasterRecovery.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: 'vpc-0a1b2c3d4e5f60002',
    });
  });
});

describe('the disaster recovery run’s time limits', () => {
  const config = exampleConfig();
  const settings = recoverySettings(config);
  const limitSeconds = recoveryRunLimitMinutes(config) * 60;

  it('holds the one-run lock as long as its execution may live, so it never expires under a waiting run', () => {
    const stateMachines = templates.disasterRecovery.findResources('AWS::StepFunctions::StateMachine');
    const timeouts = Object.values(stateMachines).map((resource) =>
      Number(/"TimeoutSeconds":(\d+)/.exec(JSON.stringify(resource).replaceAll('\\"', '"'))?.[1]),
    );
    expect(timeouts).toEqual([limitSeconds]);
    expect(settings.lockTtlSeconds).toBe(limitSeconds);
    // Longer than the approval wait plus a database restore and a blockchain restore at their deadlines.
    expect(settings.lockTtlSeconds).toBeGreaterThan(
      settings.approvalTimeoutSeconds +
        settings.jobs.restore.activeDeadlineSeconds +
        settings.applicationDeadlineSeconds,
    );
  });

  it('gives the step task the time to wait for both check Jobs of the validation', () => {
    templates.disasterRecovery.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Runs one step of a disaster recovery run in the DR region',
      Timeout: 900,
    });
  });
});
