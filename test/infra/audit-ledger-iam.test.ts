import { runSimulation } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  LEDGER_DATA_KEY_ALIAS,
  LEDGER_PARTITIONS,
  LEDGER_SIGNING_KEY_ALIAS,
  LEDGER_WRITER_TAG,
  principalWriter,
  WORKFLOW_WRITERS,
} from '../../lambdas/core/ledger/ledger-contract';
import type { AuditLedgerStack } from '../../lib/stacks/audit-ledger-stack';
import { synthAor } from '../support/app';
import { PARTITION, type PolicyDocument, SynthesizedPolicies } from '../support/iam-policies';

/**
 * The ledger's protections evaluated, not pattern-matched: the synthesized resource policies (table,
 * keys, bucket) and identity policies (sequencer, writers, operators, break-glass), resolved to
 * what the deployed stacks hold, are judged by an offline IAM evaluator with real IAM semantics
 * (policy variables, ForAnyValue/ForAllValues, explicit denies over allows). The evaluator does
 * not fill in `aws:PrincipalArn`, `aws:userid` or principal tags itself: each principal says them.
 */

const ACCOUNT = '111122223333';
const role = (name: string) => `arn:${PARTITION}:iam::${ACCOUNT}:role/${name}`;
const administratorAccess = {
  name: 'AdministratorAccess',
  policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
};

interface Principal {
  readonly arn: string;
  readonly identity: { name: string; policy: PolicyDocument | typeof administratorAccess.policy }[];
  readonly context?: Record<string, string | string[]>;
}

interface Target {
  readonly arn: string;
  readonly policy?: PolicyDocument;
}

type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

async function decide(
  principal: Principal,
  action: string,
  target: Target,
  context: Record<string, string | string[]> = {},
): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal: principal.arn,
        action,
        resource: { resource: target.arn, accountId: ACCOUNT },
        contextVariables: { 'aws:PrincipalArn': principal.arn, ...principal.context, ...context },
      },
      identityPolicies: principal.identity,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(target.policy && { resourcePolicy: target.policy }),
    },
    {},
  );
  if (result.resultType !== 'single') throw new Error(`simulation failed: ${JSON.stringify(result)}`);
  // A context key the evaluator does not know for this action would silently match nothing.
  expect(result.result.ignoredContextKeys ?? [], `${action} ignored context keys`).toEqual([]);
  return result.overallResult as Decision;
}

const putItem = (key: string) => ({ 'dynamodb:LeadingKeys': [key] });

let admin: Principal;
let deployer: Principal;
let sequencer: Principal;
let drSequencer: Principal;
let breakGlass: Principal;
let incidentTask: Principal;
let recoveryTask: Principal;
let operator: Principal;
let table: Target;
let drTable: Target;
let signingKey: Target;
let dataKey: Target;
let drSigningKey: Target;
let drDataKey: Target;
let archiveBucket: Target;
let checkpoint: Target;

beforeAll(() => {
  const synthesized = synthAor();
  const policies = new SynthesizedPolicies(synthesized);
  const { ledger: primary, drLedger, incidentResponse, disasterRecovery } = synthesized.stacks;
  const roleOf = (construct: Parameters<SynthesizedPolicies['roleArn']>[0], context = {}): Principal => ({
    arn: policies.roleArn(construct),
    identity: policies.identityPolicies(construct),
    context,
  });
  const targets = (stack: AuditLedgerStack) => ({
    table: {
      arn: policies.attribute(stack.ledger.table, 'Arn'),
      policy: policies.resourceProperty(stack.ledger.table, ['ResourcePolicy', 'PolicyDocument']),
    },
    signingKey: {
      arn: policies.attribute(stack.ledger.signingKey, 'Arn'),
      policy: policies.resourceProperty(stack.ledger.signingKey, ['KeyPolicy']),
    },
    dataKey: {
      arn: policies.attribute(stack.encryptionKey.key, 'Arn'),
      policy: policies.resourceProperty(stack.encryptionKey.key, ['KeyPolicy']),
    },
  });
  ({ table, signingKey, dataKey } = targets(primary));
  ({ table: drTable, signingKey: drSigningKey, dataKey: drDataKey } = targets(drLedger));
  const bucketArn = policies.attribute(primary.ledger.checkpoints, 'Arn');
  const bucketPolicy = policies.bucketPolicy(primary.ledger.checkpoints);
  archiveBucket = { arn: bucketArn, policy: bucketPolicy };
  checkpoint = { arn: `${bucketArn}/checkpoints/000000000042.note`, policy: bucketPolicy };

  admin = { arn: role('Administrator'), identity: [administratorAccess] };
  deployer = {
    arn: role(`cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${primary.region}`),
    identity: [administratorAccess],
  };
  sequencer = roleOf(primary.ledger.sequencer.role);
  drSequencer = roleOf(drLedger.ledger.sequencer.role);
  breakGlass = roleOf(primary.ledger.breakGlass.role);
  incidentTask = roleOf(incidentResponse.workflow.functions.action.role, {
    [`aws:PrincipalTag/${LEDGER_WRITER_TAG}`]: WORKFLOW_WRITERS.incidentResponse,
  });
  recoveryTask = roleOf(disasterRecovery.workflow.step.role, {
    [`aws:PrincipalTag/${LEDGER_WRITER_TAG}`]: WORKFLOW_WRITERS.disasterRecovery,
  });
  operator = {
    arn: role('Operator'),
    identity: [
      {
        name: 'OperatorRecording',
        policy: policies.resourceProperty(primary.ledger.operatorPolicy, ['PolicyDocument']),
      },
    ],
    context: { 'aws:userid': 'AROAEXAMPLE:alice' },
  };
  expect(breakGlass.arn).toBe(role(`aor-ledger-break-glass-${primary.region}`));
});

const treeKeys = ['ENTRIES#0', `INDEX#${WORKFLOW_WRITERS.incidentResponse}#k`, 'HEAD', 'CHECKPOINT'];
const request = (writer: string) => LEDGER_PARTITIONS.request(writer, 'x');

describe('the table: only the sequencer writes the tree', () => {
  it.each(treeKeys)('denies an administrator PutItem on %s', async (key) => {
    expect(await decide(admin, 'dynamodb:PutItem', table, putItem(key))).toBe('ExplicitlyDenied');
  });

  it.each(treeKeys)('allows the sequencer PutItem on %s', async (key) => {
    expect(await decide(sequencer, 'dynamodb:PutItem', table, putItem(key))).toBe('Allowed');
  });

  it("denies the other region's sequencer PutItem on this log's head", async () => {
    expect(await decide(drSequencer, 'dynamodb:PutItem', table, putItem('HEAD'))).not.toBe('Allowed');
  });

  it('denies the CloudFormation execution role PutItem on ENTRIES#0', async () => {
    expect(await decide(deployer, 'dynamodb:PutItem', table, putItem('ENTRIES#0'))).toBe('ExplicitlyDenied');
  });
});

describe('the table: no one but break-glass changes or deletes items, or turns on TTL', () => {
  const reserved = [
    'dynamodb:BatchWriteItem',
    'dynamodb:DeleteItem',
    'dynamodb:UpdateItem',
    'dynamodb:UpdateTimeToLive',
  ];
  // Item actions name the item's partition; table actions have no leading keys.
  const on = (action: string, key: string) => (action === 'dynamodb:UpdateTimeToLive' ? {} : putItem(key));

  it.each(reserved)('denies an administrator %s', async (action) => {
    expect(await decide(admin, action, table, on(action, 'ENTRIES#0'))).toBe('ExplicitlyDenied');
  });

  it.each(reserved)('denies the sequencer %s', async (action) => {
    expect(await decide(sequencer, action, table, on(action, 'HEAD'))).toBe('ExplicitlyDenied');
  });

  it.each(['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'])(
    'denies the CloudFormation execution role %s',
    async (action) => {
      expect(await decide(deployer, action, table, putItem('ENTRIES#0'))).toBe('ExplicitlyDenied');
    },
  );

  it.each(reserved)('allows break-glass %s', async (action) => {
    expect(await decide(breakGlass, action, table, on(action, 'ENTRIES#0'))).toBe('Allowed');
  });

  it.each(['dynamodb:DeleteTable', 'dynamodb:UpdateTable', 'dynamodb:UpdateContinuousBackups'])(
    'denies an administrator %s and allows break-glass',
    async (action) => {
      expect(await decide(admin, action, table)).toBe('ExplicitlyDenied');
      expect(await decide(breakGlass, action, table)).toBe('Allowed');
    },
  );

  it('lets the CloudFormation execution role replace the table policy and PITR, as deploys do', async () => {
    expect(await decide(deployer, 'dynamodb:PutResourcePolicy', table)).toBe('Allowed');
    expect(await decide(deployer, 'dynamodb:UpdateContinuousBackups', table)).toBe('Allowed');
    expect(await decide(admin, 'dynamodb:PutResourcePolicy', table)).toBe('ExplicitlyDenied');
  });
});

describe('the table: writers stay in their own namespace', () => {
  it('lets the incident task role put its own request', async () => {
    expect(await decide(incidentTask, 'dynamodb:PutItem', table, putItem(request('incident-response')))).toBe(
      'Allowed',
    );
  });

  it('lets the incident task role queue a request', async () => {
    expect(await decide(incidentTask, 'dynamodb:PutItem', table, putItem(LEDGER_PARTITIONS.pending))).toBe(
      'Allowed',
    );
  });

  it("denies the incident task role disaster recovery's namespace", async () => {
    expect(
      await decide(
        incidentTask,
        'dynamodb:PutItem',
        table,
        putItem(request(WORKFLOW_WRITERS.disasterRecovery)),
      ),
    ).not.toBe('Allowed');
  });

  it('denies the incident task role the journal', async () => {
    expect(await decide(incidentTask, 'dynamodb:PutItem', table, putItem('ENTRIES#0'))).toBe(
      'ExplicitlyDenied',
    );
  });

  it('denies an untagged administrator the incident namespace', async () => {
    expect(
      await decide(admin, 'dynamodb:PutItem', table, putItem(request(WORKFLOW_WRITERS.incidentResponse))),
    ).toBe('ExplicitlyDenied');
  });

  it('denies an administrator tagged as another writer the incident namespace', async () => {
    const tagged = { ...admin, context: { [`aws:PrincipalTag/${LEDGER_WRITER_TAG}`]: 'disaster-recovery' } };
    expect(
      await decide(tagged, 'dynamodb:PutItem', table, putItem(request(WORKFLOW_WRITERS.incidentResponse))),
    ).toBe('ExplicitlyDenied');
  });

  it('lets the recovery task role put its own request in the DR region, and not in the primary one', async () => {
    const key = putItem(request(WORKFLOW_WRITERS.disasterRecovery));
    expect(await decide(recoveryTask, 'dynamodb:PutItem', drTable, key)).toBe('Allowed');
    expect(await decide(recoveryTask, 'dynamodb:PutItem', table, key)).not.toBe('Allowed');
  });

  it('lets an operator put a request under their own user id', async () => {
    const key = putItem(request(principalWriter('AROAEXAMPLE:alice')));
    expect(await decide(operator, 'dynamodb:PutItem', table, key)).toBe('Allowed');
  });

  it("denies an operator a request under someone else's user id", async () => {
    const key = putItem(request(principalWriter('AROAEXAMPLE:bob')));
    expect(await decide(operator, 'dynamodb:PutItem', table, key)).not.toBe('Allowed');
  });

  it("denies an administrator a request under someone else's user id", async () => {
    const key = putItem(request(principalWriter('AROAEXAMPLE:bob')));
    const alice = { ...admin, context: { 'aws:userid': 'AROAEXAMPLE:alice' } };
    expect(await decide(alice, 'dynamodb:PutItem', table, key)).toBe('ExplicitlyDenied');
  });

  it('lets an operator read their receipt and the head, and nobody else’s request', async () => {
    const own = putItem(LEDGER_PARTITIONS.indexMarker(principalWriter('AROAEXAMPLE:alice'), 'k'));
    expect(await decide(operator, 'dynamodb:GetItem', table, own)).toBe('Allowed');
    expect(await decide(operator, 'dynamodb:GetItem', table, putItem('HEAD'))).toBe('Allowed');
    const other = putItem(request(principalWriter('AROAEXAMPLE:bob')));
    expect(await decide(operator, 'dynamodb:GetItem', table, other)).toBe('ImplicitlyDenied');
  });
});

describe('the signing key: only the sequencer signs, only break-glass disables, deletes or grants', () => {
  it.each(['kms:Sign', 'kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:CreateGrant'])(
    'denies an administrator %s',
    async (action) => {
      expect(await decide(admin, action, signingKey)).toBe('ExplicitlyDenied');
    },
  );

  it('allows the sequencer kms:Sign', async () => {
    expect(await decide(sequencer, 'kms:Sign', signingKey)).toBe('Allowed');
  });

  it('denies break-glass and the CloudFormation execution role kms:Sign', async () => {
    expect(await decide(breakGlass, 'kms:Sign', signingKey)).toBe('ExplicitlyDenied');
    expect(await decide(deployer, 'kms:Sign', signingKey)).toBe('ExplicitlyDenied');
  });

  it.each(['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:CreateGrant', 'kms:PutKeyPolicy'])(
    'allows break-glass %s',
    async (action) => {
      expect(await decide(breakGlass, action, signingKey)).toBe('Allowed');
    },
  );

  it('lets deployments replace the key policy, and nobody else', async () => {
    expect(await decide(deployer, 'kms:PutKeyPolicy', signingKey)).toBe('Allowed');
    expect(await decide(admin, 'kms:PutKeyPolicy', signingKey)).toBe('ExplicitlyDenied');
  });

  it('lets auditors be granted the public key through IAM', async () => {
    expect(await decide(admin, 'kms:GetPublicKey', signingKey)).toBe('Allowed');
  });
});

describe('the data key: only break-glass disables or deletes it', () => {
  it.each(['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:PutKeyPolicy'])(
    'denies an administrator %s and allows break-glass',
    async (action) => {
      expect(await decide(admin, action, dataKey)).toBe('ExplicitlyDenied');
      expect(await decide(breakGlass, action, dataKey)).toBe('Allowed');
    },
  );

  it('still lets principals use it', async () => {
    expect(await decide(admin, 'kms:Decrypt', dataKey)).toBe('Allowed');
  });
});

describe('the archive: checkpoints are written once and kept', () => {
  it('denies an administrator s3:DeleteObject and s3:DeleteObjectVersion', async () => {
    expect(await decide(admin, 's3:DeleteObject', checkpoint)).toBe('ExplicitlyDenied');
    expect(await decide(admin, 's3:DeleteObjectVersion', checkpoint)).toBe('ExplicitlyDenied');
  });

  it('denies a put without If-None-Match, to administrators and the sequencer alike', async () => {
    expect(await decide(admin, 's3:PutObject', checkpoint)).toBe('ExplicitlyDenied');
    expect(await decide(sequencer, 's3:PutObject', checkpoint)).toBe('ExplicitlyDenied');
  });

  it('allows the sequencer a conditional put of a new checkpoint', async () => {
    expect(await decide(sequencer, 's3:PutObject', checkpoint, { 's3:if-none-match': '*' })).toBe('Allowed');
  });

  it('keeps the sequencer to its archive prefixes', async () => {
    const elsewhere = { ...checkpoint, arn: checkpoint.arn.replace('/checkpoints/', '/elsewhere/') };
    expect(await decide(sequencer, 's3:PutObject', elsewhere, { 's3:if-none-match': '*' })).toBe(
      'ImplicitlyDenied',
    );
  });

  it.each([
    's3:PutBucketObjectLockConfiguration',
    's3:PutBucketVersioning',
    's3:PutLifecycleConfiguration',
    's3:DeleteBucket',
  ])('denies an administrator %s and allows break-glass', async (action) => {
    expect(await decide(admin, action, archiveBucket)).toBe('ExplicitlyDenied');
    expect(await decide(breakGlass, action, archiveBucket)).toBe('Allowed');
  });

  it.each([
    's3:DeleteObject',
    's3:PutObjectRetention',
    's3:PutObjectLegalHold',
    's3:BypassGovernanceRetention',
  ])('allows break-glass %s', async (action) => {
    expect(await decide(breakGlass, action, checkpoint)).toBe('Allowed');
  });

  it('lets deployments and break-glass replace the bucket policy, and nobody else', async () => {
    expect(await decide(deployer, 's3:PutBucketPolicy', archiveBucket)).toBe('Allowed');
    expect(await decide(breakGlass, 's3:DeleteBucketPolicy', archiveBucket)).toBe('Allowed');
    expect(await decide(admin, 's3:PutBucketPolicy', archiveBucket)).toBe('ExplicitlyDenied');
  });

  it('denies the CloudFormation execution role deleting a checkpoint', async () => {
    expect(await decide(deployer, 's3:DeleteObject', checkpoint)).toBe('ExplicitlyDenied');
  });
});

describe("witnessing: each sequencer reads the other region's checkpoints, nothing more", () => {
  it("lets the primary sequencer read the DR log's checkpoints and tree nodes", async () => {
    expect(await decide(sequencer, 'dynamodb:GetItem', drTable, putItem('CHECKPOINT'))).toBe('Allowed');
    expect(await decide(sequencer, 'dynamodb:Query', drTable, putItem('NODE#0#1'))).toBe('Allowed');
  });

  it("denies the primary sequencer the DR log's entries and requests", async () => {
    expect(await decide(sequencer, 'dynamodb:GetItem', drTable, putItem('ENTRIES#0'))).toBe(
      'ImplicitlyDenied',
    );
    expect(
      await decide(
        sequencer,
        'dynamodb:GetItem',
        drTable,
        putItem(request(WORKFLOW_WRITERS.disasterRecovery)),
      ),
    ).toBe('ImplicitlyDenied');
  });

  it("lets the primary sequencer read the DR signing key's public key, by alias", async () => {
    const alias = { 'kms:ResourceAliases': [LEDGER_SIGNING_KEY_ALIAS] };
    expect(await decide(sequencer, 'kms:GetPublicKey', drSigningKey, alias)).toBe('Allowed');
    expect(
      await decide(sequencer, 'kms:GetPublicKey', drSigningKey, { 'kms:ResourceAliases': ['alias/other'] }),
    ).toBe('ImplicitlyDenied');
  });

  it("lets the primary sequencer decrypt the DR log's items only through DynamoDB in that region", async () => {
    const alias = { 'kms:ResourceAliases': [LEDGER_DATA_KEY_ALIAS] };
    const viaDynamoDb = { ...alias, 'kms:ViaService': 'dynamodb.us-gov-east-1.amazonaws.com' };
    expect(await decide(sequencer, 'kms:Decrypt', drDataKey, viaDynamoDb)).toBe('Allowed');
    expect(await decide(sequencer, 'kms:Decrypt', drDataKey, alias)).toBe('ImplicitlyDenied');
  });

  it('denies a sequencer signing with the other region’s key', async () => {
    expect(await decide(drSequencer, 'kms:Sign', signingKey)).toBe('ExplicitlyDenied');
  });
});
