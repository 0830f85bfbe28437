import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeFindings } from '../compliance';
import { AorFunction } from './aor-function';
import { grantDataKeyUse } from './customer-key';
import { SecureBucket } from './secure-bucket';
import { SecureTable } from './secure-table';
import type { TaskNetwork } from './task-network';

/** Physical names, fixed so that stacks in the DR region can be granted access without references. */
export const LEDGER_TABLE_NAME = 'aor-audit-ledger';
export const LEDGER_SIGNING_KEY_ALIAS = 'alias/aor/audit-ledger-signing';
/** The C2SP checkpoint origin line: names the log a checkpoint belongs to. */
export const LEDGER_ORIGIN = 'phoenixrooivalk.mil/aor/audit-ledger';

export interface AuditLedgerProps {
  readonly encryptionKey: kms.IKey;
  readonly accessLogs: s3.IBucket;
  readonly network: TaskNetwork;
  readonly logRetention: logs.RetentionDays;
  readonly checkpointRetention: Duration;
}

/**
 * The verified audit ledger: entries in an append-only DynamoDB table, a single sequencer that
 * integrates them into an RFC 9162 Merkle tree in batches, checkpoints signed by a KMS P-256 key
 * and locked in S3 (Object Lock, compliance mode).
 *
 * Who may write what is the heart of it. Writers (`grantAppend`) may only put new requests and
 * queue them; the sequencer may put entries, tree nodes and checkpoints, and replace the head; no
 * one may update or delete an item through IAM, and the table's resource policy denies deletes and
 * updates to every principal, administrators included.
 */
export class AuditLedger extends Construct {
  readonly table: dynamodb.Table;
  readonly signingKey: kms.Key;
  readonly checkpoints: s3.Bucket;
  readonly sequencer: AorFunction;
  readonly appendFunction: AorFunction;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: AuditLedgerProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    this.table = new SecureTable(this, 'Entries', {
      tableName: LEDGER_TABLE_NAME,
      encryptionKey: props.encryptionKey,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    }).table;
    this.table.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'LedgerEntriesAreNeverChangedOrDeleted',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [
          'dynamodb:DeleteItem',
          'dynamodb:UpdateItem',
          'dynamodb:PartiQLDelete',
          'dynamodb:PartiQLUpdate',
        ],
        resources: ['*'],
      }),
    );

    this.signingKey = new kms.Key(this, 'CheckpointSigningKey', {
      alias: LEDGER_SIGNING_KEY_ALIAS,
      description: 'AOR audit ledger: signs checkpoints (C2SP signed notes)',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeFindings(this.signingKey, {
      'AwsSolutions-KMS5':
        'KMS does not rotate asymmetric keys; verifiers pin this public key, and a new key would start a new checkpoint chain.',
      'NIST.800.53.R5-KMSBackingKeyRotationEnabled':
        'KMS does not rotate asymmetric keys; verifiers pin this public key, and a new key would start a new checkpoint chain.',
    });

    this.checkpoints = new SecureBucket(this, 'Checkpoints', {
      encryptionKey: props.encryptionKey,
      accessLogs: props.accessLogs,
      accessLogPrefix: 'ledger-checkpoints/',
      objectLockRetention: props.checkpointRetention,
      noReplicationReason:
        'Checkpoints are signed and Object-Locked here; any copy (an export) is verified against the signature, not trusted for being replicated.',
    }).bucket;

    const environment = {
      LEDGER_TABLE_NAME: this.table.tableName,
      LEDGER_ORIGIN,
      LEDGER_SIGNING_KEY_ID: this.signingKey.keyArn,
      LEDGER_CHECKPOINT_BUCKET: this.checkpoints.bucketName,
    };
    this.sequencer = new AorFunction(this, 'Sequencer', {
      entry: 'lambdas/handlers/ledger-sequencer.ts',
      description: 'Integrates pending audit records into the Merkle tree and signs a checkpoint',
      serviceName: 'audit-ledger',
      encryptionKey: props.encryptionKey,
      network: props.network,
      logRetention: props.logRetention,
      environment,
      timeout: Duration.minutes(5),
      memorySize: 1024,
      // One writer: the head's compare-and-set would reject a second one anyway, but it would
      // have wasted a KMS signature and a batch of writes first.
      reservedConcurrentExecutions: 1,
    });
    this.grantSequencing(this.sequencer.role);
    new events.Rule(this, 'SequencerSchedule', {
      description: 'Integrate pending audit records every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.sequencer.function, { retryAttempts: 0 })],
    });

    this.appendFunction = new AorFunction(this, 'Append', {
      entry: 'lambdas/handlers/ledger-append.ts',
      description: 'Appends an audit record to the ledger and returns its receipt',
      serviceName: 'audit-ledger',
      encryptionKey: props.encryptionKey,
      network: props.network,
      logRetention: props.logRetention,
      environment: { LEDGER_TABLE_NAME: this.table.tableName },
      reservedConcurrentExecutions: 20,
    });
    this.grantAppend(this.appendFunction.role);
  }

  /** Lets a principal append audit records: put new requests and queue them, read receipts. */
  grantAppend(grantee: iam.IGrantable): void {
    grantLedgerAppend(grantee, this.table.tableArn);
    grantDataKeyUse(this.encryptionKey, grantee);
  }

  private grantSequencing(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteEntriesNodesCheckpointsAndHead',
        actions: ['dynamodb:PutItem', 'dynamodb:BatchWriteItem'],
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': ['ENTRIES#*', 'NODE#*', 'REQ#*', 'CHECKPOINT', 'HEAD'],
          },
        },
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadLedger',
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
        resources: [this.table.tableArn],
      }),
    );
    grantDataKeyUse(this.encryptionKey, grantee);
    this.signingKey.grant(grantee, 'kms:Sign', 'kms:GetPublicKey');
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [this.checkpoints.arnForObjects('checkpoints/*')],
      }),
    );
    acknowledgeFindings(this.sequencer, {
      'AwsSolutions-IAM5[Resource::<LedgerCheckpointsBucketCE70D9A2.Arn>/checkpoints/*]':
        'The sequencer writes one object per checkpoint, named by tree size, under checkpoints/; the prefix is the narrowest scope that allows new ones, and Object Lock forbids overwriting any.',
    });
  }
}

/**
 * What appending needs, by table ARN so a stack in another region (disaster recovery) can be
 * granted it without a cross-region reference: put and read only the request and queue items.
 */
export function grantLedgerAppend(grantee: iam.IGrantable, tableArn: string): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'AppendAuditRecords',
      actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:BatchGetItem'],
      resources: [tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['REQ#*', 'PENDING'] } },
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadLedgerHead',
      actions: ['dynamodb:GetItem'],
      resources: [tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['HEAD'] } },
    }),
  );
}

/** The ledger table's ARN in the primary region, for stacks elsewhere. */
export function ledgerTableArn(scope: Construct, primaryRegion: string): string {
  return Stack.of(scope).formatArn({
    service: 'dynamodb',
    region: primaryRegion,
    resource: 'table',
    resourceName: LEDGER_TABLE_NAME,
  });
}
