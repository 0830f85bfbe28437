import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthAor } from '../support/app';

let templates: { ledger: Template; incidentResponse: Template; disasterRecovery: Template };
let stackEnvs: Record<string, string>;

beforeAll(() => {
  const synthesized = synthAor();
  templates = synthesized.templates;
  const { ledger, incidentResponse, disasterRecovery } = synthesized.stacks;
  stackEnvs = {
    ledger: ledger.region,
    incidentResponse: incidentResponse.region,
    disasterRecovery: disasterRecovery.region,
  };
});

describe('stack placement', () => {
  it('puts the ledger and incident response in the primary region and DR in the DR region', () => {
    expect(stackEnvs).toEqual({
      ledger: 'us-gov-west-1',
      incidentResponse: 'us-gov-west-1',
      disasterRecovery: 'us-gov-east-1',
    });
  });
});

describe.each(['ledger', 'incidentResponse', 'disasterRecovery'] as const)('%s stack baseline', (name) => {
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
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
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
      const isLogDestination = bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration.some(
        (rule: { ServerSideEncryptionByDefault: { SSEAlgorithm: string } }) =>
          rule.ServerSideEncryptionByDefault.SSEAlgorithm === 'AES256',
      );
      if (!isLogDestination) expect(bucket.Properties.LoggingConfiguration).toBeDefined();
    }
  });

  it('encrypts every SNS topic with a customer key', () => {
    for (const topic of Object.values(templates[name].findResources('AWS::SNS::Topic'))) {
      expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    }
  });
});

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
