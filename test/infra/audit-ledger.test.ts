import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  LEDGER_ARCHIVE_PREFIXES,
  LEDGER_DATA_KEY_ALIAS,
  LEDGER_LEADING_KEYS,
  LEDGER_SIGNING_KEY_ALIAS,
  LEDGER_STACK_OUTPUTS,
  LEDGER_TABLE_NAME,
  ledgerOrigin,
  PRINCIPAL_WRITER_POLICY_VARIABLE,
  SEQUENCER_ENVIRONMENT,
  WORKFLOW_WRITERS,
} from '../../lambdas/core/ledger/ledger-contract';
import type { AuditLedgerStack } from '../../lib/stacks/audit-ledger-stack';
import { type SynthesizedAor, synthAor } from '../support/app';
import { SynthesizedPolicies } from '../support/iam-policies';

type Statement = {
  Sid?: string;
  Action: string | string[];
  Effect: string;
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

let synthesized: SynthesizedAor;
let policies: SynthesizedPolicies;

beforeAll(() => {
  synthesized = synthAor();
  policies = new SynthesizedPolicies(synthesized);
});

const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat());

/** Identity policy statements of the role with this logical id prefix. */
function statementsOf(template: Template, roleLogicalIdPrefix: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref.startsWith(roleLogicalIdPrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

function only<T>(found: Record<string, T>, what: string): T {
  const values = Object.values(found);
  expect(values, what).toHaveLength(1);
  return values[0] as T;
}

describe.each([
  ['ledger', 'us-gov-west-1', 'us-gov-east-1', WORKFLOW_WRITERS.incidentResponse, 'aor-incident-response'],
  ['drLedger', 'us-gov-east-1', 'us-gov-west-1', WORKFLOW_WRITERS.disasterRecovery, 'aor-disaster-recovery'],
] as const)('%s stack (%s, witnessing %s)', (name, region, peer, writer, stateMachine) => {
  let template: Template;
  let stack: AuditLedgerStack;
  let sequencer: Statement[];
  beforeAll(() => {
    template = synthesized.templates[name];
    stack = synthesized.stacks[name];
    sequencer = statementsOf(template, 'LedgerSequencerRole');
  });

  it('is in its region and names its log by it', () => {
    expect(stack.region).toBe(region);
    expect(template.toJSON().Outputs[LEDGER_STACK_OUTPUTS.origin].Value).toBe(ledgerOrigin(region));
  });

  it('outputs what exports, operators and auditors read', () => {
    const outputs = template.toJSON().Outputs as Record<string, unknown>;
    for (const key of Object.values(LEDGER_STACK_OUTPUTS)) expect(outputs[key], key).toBeDefined();
  });

  it('signs checkpoints with its own KMS ECC_NIST_P256 key, found by alias', () => {
    template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: LEDGER_SIGNING_KEY_ALIAS });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: LEDGER_DATA_KEY_ALIAS });
  });

  it('keeps its table under the fixed name, encrypted with its data key', () => {
    const table = only(template.findResources('AWS::DynamoDB::Table'), 'one table');
    expect(table.Properties.TableName).toBe(LEDGER_TABLE_NAME);
    expect(table.Properties.SSESpecification.KMSMasterKeyId).toEqual({
      'Fn::GetAtt': [stack.getLogicalId(stack.encryptionKey.key.node.defaultChild as CfnElement), 'Arn'],
    });
  });

  it('locks every checkpoint in compliance mode, encrypted by S3 so that no KMS key can shred it', () => {
    const bucket =
      template.toJSON().Resources[
        stack.getLogicalId(stack.ledger.checkpoints.node.defaultChild as CfnElement)
      ];
    expect(bucket.Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2557 } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
  });

  it('denies in the table policy: tree writes, namespaces, item changes, table changes', () => {
    const policy = policies.resourceProperty(stack.ledger.table, ['ResourcePolicy', 'PolicyDocument']);
    const statements = policy.Statement as Statement[];
    expect(statements.every((s) => s.Effect === 'Deny')).toBe(true);
    expect(statements.map((s) => s.Sid)).toEqual([
      'OnlyTheSequencerWritesTheTree',
      'OnlyTaggedIncidentResponseRolesWriteItsRequests',
      'OnlyTaggedDisasterRecoveryRolesWriteItsRequests',
      'PeopleWriteOnlyTheirOwnRequests',
      'ItemsAreNeverChangedOrDeleted',
      'TableAndItsProtectionsStay',
    ]);
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(bySid.OnlyTheSequencerWritesTheTree?.Condition?.['ForAnyValue:StringLike']).toEqual({
      'dynamodb:LeadingKeys': [...LEDGER_LEADING_KEYS.sequencerOnly],
    });
    expect(actionsOf([bySid.ItemsAreNeverChangedOrDeleted as Statement]).sort()).toEqual(
      [
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:PartiQLDelete',
        'dynamodb:PartiQLInsert',
        'dynamodb:PartiQLUpdate',
        'dynamodb:UpdateItem',
      ].sort(),
    );
  });

  it('keeps the IAM policy variable ${aws:userid} as IAM must see it', () => {
    const table = only(template.findResources('AWS::DynamoDB::Table'), 'one table');
    const people = (table.Properties.ResourcePolicy.PolicyDocument.Statement as Statement[]).find(
      (s) => s.Sid === 'PeopleWriteOnlyTheirOwnRequests',
    );
    expect(people?.Condition?.['ForAnyValue:StringNotLike']).toEqual({
      'dynamodb:LeadingKeys': ['REQ#principal/${aws:userid}#*'],
    });
    const operator = only(template.findResources('AWS::IAM::ManagedPolicy'), 'one operator policy');
    expect(JSON.stringify(operator.Properties.PolicyDocument)).toContain(
      `"REQ#${PRINCIPAL_WRITER_POLICY_VARIABLE}#*"`,
    );
    expect(JSON.stringify(template.toJSON())).not.toMatch(/Fn::Sub[^}]*aws:userid/);
  });

  it('grants no one but break-glass an item update or delete', () => {
    const granted = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => !id.startsWith('LedgerBreakGlass'))
      .flatMap(([, p]) => actionsOf(p.Properties.PolicyDocument.Statement as Statement[]));
    expect(granted.filter((a) => /^dynamodb:(Update|Delete|BatchWrite|PartiQL|\*)/.test(a))).toEqual([]);
  });

  it('runs one sequencer at a time, every minute, and no other function', () => {
    const fn = only(template.findResources('AWS::Lambda::Function'), 'only the sequencer');
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(fn.Properties.Description).toMatch(/^Integrates pending audit records/);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
  });

  it("gives the sequencer its region's table, origin, key, archive, peer and workflow writers", () => {
    const fn = only(template.findResources('AWS::Lambda::Function'), 'only the sequencer');
    const env = policies.resolve(stack.ledger.sequencer, fn.Properties.Environment.Variables) as Record<
      string,
      string
    >;
    expect(env[SEQUENCER_ENVIRONMENT.tableName]).toBe(LEDGER_TABLE_NAME);
    expect(env[SEQUENCER_ENVIRONMENT.origin]).toBe(ledgerOrigin(region));
    expect(env[SEQUENCER_ENVIRONMENT.signingKeyId]).toBe(policies.attribute(stack.ledger.signingKey, 'Arn'));
    expect(env[SEQUENCER_ENVIRONMENT.archiveBucket]).toBe(
      policies.resolve(stack.ledger.checkpoints, {
        Ref: stack.getLogicalId(stack.ledger.checkpoints.node.defaultChild as CfnElement),
      }),
    );
    expect(env[SEQUENCER_ENVIRONMENT.peerRegion]).toBe(peer);
    expect(JSON.parse(env[SEQUENCER_ENVIRONMENT.workflowWriters] as string)).toEqual({
      [writer]: `arn:aws-us-gov:states:${region}:111122223333:execution:${stateMachine}:`,
    });
  });

  it('lets the sequencer call exactly what its code calls', () => {
    const ours = sequencer.filter((s) => s.Sid !== undefined);
    expect(Object.fromEntries(ours.map((s) => [s.Sid, [s.Action].flat().sort()]))).toEqual({
      WriteTreeCheckpointsHeadAndQueue: ['dynamodb:PutItem'],
      ReadLedger: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
      SignCheckpoints: ['kms:GetPublicKey', 'kms:Sign'],
      ArchiveCheckpoints: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
      ListArchivedVersions: ['s3:ListBucketVersions'],
      WitnessPeerLog: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
      ReadPeerPublicKey: ['kms:GetPublicKey'],
      DecryptPeerLogItems: ['kms:Decrypt'],
    });
    const bySid = Object.fromEntries(ours.map((s) => [s.Sid, s]));
    expect(bySid.WriteTreeCheckpointsHeadAndQueue?.Condition).toEqual({
      'ForAllValues:StringLike': {
        'dynamodb:LeadingKeys': [...LEDGER_LEADING_KEYS.sequencerOnly, 'PENDING'],
      },
    });
    const archived = Object.values(LEDGER_ARCHIVE_PREFIXES).map((prefix) => `${prefix}*`);
    expect(bySid.ListArchivedVersions?.Condition).toEqual({ StringLike: { 's3:prefix': archived } });
    expect(actionsOf(sequencer)).not.toContain('dynamodb:BatchWriteItem');
  });

  it("reads the peer region's table and keys by name and alias, in the peer region", () => {
    const statements = policies
      .identityPolicies(stack.ledger.sequencer.role)
      .flatMap((p) => p.policy.Statement as Statement[]);
    const resolved = (sid: string) => statements.find((s) => s.Sid === sid) as Statement;
    expect(resolved('WitnessPeerLog').Resource).toBe(
      `arn:aws-us-gov:dynamodb:${peer}:111122223333:table/${LEDGER_TABLE_NAME}`,
    );
    expect(resolved('WitnessPeerLog').Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...LEDGER_LEADING_KEYS.witnessReads] },
    });
    expect(resolved('ReadPeerPublicKey')).toMatchObject({
      Resource: `arn:aws-us-gov:kms:${peer}:111122223333:key/*`,
      Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': LEDGER_SIGNING_KEY_ALIAS } },
    });
    expect(resolved('DecryptPeerLogItems').Condition).toEqual({
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': LEDGER_DATA_KEY_ALIAS },
      StringEquals: { 'kms:ViaService': `dynamodb.${peer}.amazonaws.com` },
    });
  });

  it('has a break-glass role only MFA sessions of the account assume, for an hour at most', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: `aor-ledger-break-glass-${region}`,
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
            Principal: {
              AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:root']] },
            },
          },
        ],
      },
    });
  });

  it('exempts the CDK bootstrap execution role of its own region from the structural denies only', () => {
    const exec = `arn:aws-us-gov:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-${region}`;
    const documents = [
      policies.resourceProperty(stack.ledger.table, ['ResourcePolicy', 'PolicyDocument']),
      policies.resourceProperty(stack.ledger.signingKey, ['KeyPolicy']),
      policies.resourceProperty(stack.encryptionKey.key, ['KeyPolicy']),
      policies.bucketPolicy(stack.ledger.checkpoints),
    ];
    const exempting = documents
      .flatMap((d) => d.Statement as Statement[])
      .filter((s) => JSON.stringify(s.Condition ?? {}).includes(exec))
      .map((s) => s.Sid);
    expect(exempting.sort()).toEqual(
      [
        'TableAndItsProtectionsStay',
        'SigningKeyPolicyReservedToBreakGlassAndDeployments',
        'DataKeyPolicyReservedToBreakGlassAndDeployments',
        'ArchivePolicyStays',
      ].sort(),
    );
  });

  it('has no dependency cycle between its resources (the key policies name the sequencer role, its policy the keys)', () => {
    // The assertions library refuses a template whose resources depend on each other in a cycle.
    expect(() => Template.fromJSON(template.toJSON())).not.toThrow();
  });
});
