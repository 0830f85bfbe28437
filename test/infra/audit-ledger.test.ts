import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthAor } from '../support/app';

let template: Template;

beforeAll(() => {
  template = synthAor().templates.ledger;
});

type Statement = {
  Action: string | string[];
  Effect: string;
  Resource: unknown;
  Condition?: Record<string, unknown>;
};

function statementsOf(roleLogicalIdPrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref.startsWith(roleLogicalIdPrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat());

describe('audit ledger resources', () => {
  it('signs checkpoints with a KMS ECC_NIST_P256 key used only for signing', () => {
    template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
  });

  it('locks every checkpoint in compliance mode for the configured retention', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2557 } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });

  it('denies every principal deleting or updating ledger items, in the table resource policy', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'aor-audit-ledger',
      ResourcePolicy: {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: [
                'dynamodb:DeleteItem',
                'dynamodb:PartiQLDelete',
                'dynamodb:PartiQLUpdate',
                'dynamodb:UpdateItem',
              ],
            }),
          ]),
        },
      },
    });
  });

  it('lets writers only put and read requests and queue items', () => {
    const statements = statementsOf('LedgerAppendRole');
    const dynamo = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')));
    expect(actionsOf(dynamo).sort()).toEqual(
      ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:GetItem', 'dynamodb:PutItem'].sort(),
    );
    const put = dynamo.find((s) => actionsOf([s]).includes('dynamodb:PutItem'));
    expect(put?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['REQ#*', 'PENDING'] },
    });
  });

  it('gives no one an update or delete permission on the ledger table', () => {
    const all = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );
    const actions = actionsOf(all);
    expect(actions.filter((a) => /^dynamodb:(Update|Delete|PartiQL|\*)/.test(a))).toEqual([]);
  });

  it('runs one sequencer at a time, with signing and checkpoint-put rights only for it', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Integrates pending audit records'),
      ReservedConcurrentExecutions: 1,
    });
    const sequencer = actionsOf(statementsOf('LedgerSequencerRole'));
    expect(sequencer).toEqual(expect.arrayContaining(['kms:Sign', 'kms:GetPublicKey', 's3:PutObject']));
    const writer = actionsOf(statementsOf('LedgerAppendRole'));
    expect(writer).not.toContain('kms:Sign');
    expect(writer).not.toContain('s3:PutObject');
  });

  it('runs the sequencer every minute', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
  });
});
