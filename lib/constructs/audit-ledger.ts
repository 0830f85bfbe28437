import { Duration, RemovalPolicy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  LEDGER_ARCHIVE_PREFIXES,
  LEDGER_DATA_KEY_ALIAS,
  LEDGER_LEADING_KEYS,
  LEDGER_PARTITIONS,
  LEDGER_SIGNING_KEY_ALIAS,
  LEDGER_TABLE_NAME,
  LEDGER_WRITER_TAG,
  ledgerOrigin,
  PRINCIPAL_REQUESTS_PATTERN,
  PRINCIPAL_WRITER_POLICY_VARIABLE,
  SEQUENCER_ENVIRONMENT,
  WORKFLOW_WRITERS,
  WRITER_ENVIRONMENT,
  type WorkflowWriter,
} from '../../lambdas/core/ledger/ledger-contract';
import { executionArnPrefix } from '../../lambdas/shared/state-machine-names';
import { acknowledgeFindings } from '../compliance';
import { AorFunction } from './aor-function';
import { grantDataKeyUse } from './customer-key';
import { denyToAllBut, LedgerBreakGlassRole } from './ledger-break-glass-role';
import { SecureBucket } from './secure-bucket';
import { SecureTable } from './secure-table';
import type { TaskNetwork } from './task-network';

export interface AuditLedgerProps {
  /** The region's ledger data key (alias LEDGER_DATA_KEY_ALIAS): table, functions, logs. */
  readonly dataKey: kms.IKey;
  readonly accessLogs: s3.IBucket;
  readonly network: TaskNetwork;
  readonly logRetention: logs.RetentionDays;
  readonly checkpointRetention: Duration;
  /** The other region, whose ledger this one's sequencer witnesses. */
  readonly peerRegion: string;
  /** The workflows that write this region's log: each writer's state machine name. */
  readonly workflowWriters: Partial<Record<WorkflowWriter, string>>;
}

/**
 * A region's verified audit ledger: requests and entries in a DynamoDB table, a single sequencer
 * that integrates them into an RFC 9162 Merkle tree in batches and witnesses the other region's
 * log, checkpoints signed by a KMS P-256 key and locked in S3 (Object Lock, compliance mode).
 *
 * Who may write what is the heart of it, and it is enforced against insiders, not only granted:
 * the table's, keys' and bucket's own policies deny every principal, administrators included,
 * what could change, drop or reorder records. Only the sequencer writes the tree and signs; a
 * writer puts only under its own namespace; no one updates or deletes an item or an archived
 * checkpoint; the break-glass role alone may lift a protection.
 */
export class AuditLedger extends Construct {
  readonly table: dynamodb.Table;
  readonly signingKey: kms.Key;
  readonly checkpoints: s3.Bucket;
  readonly sequencer: AorFunction;
  readonly breakGlass: LedgerBreakGlassRole;
  /** What an operator's own IAM principal needs to record their actions with the `aor` CLI. */
  readonly operatorPolicy: iam.ManagedPolicy;
  /** The C2SP origin of this region's log. */
  readonly origin: string;
  private readonly tableArn: string;

  constructor(scope: Construct, id: string, props: AuditLedgerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (Token.isUnresolved(stack.region)) {
      throw new Error(
        `${this.node.path}: a ledger names its log by region; give its stack an explicit region`,
      );
    }
    this.origin = ledgerOrigin(stack.region);
    // By name, not by reference: the table's own resource policy names it.
    this.tableArn = stack.formatArn({
      service: 'dynamodb',
      resource: 'table',
      resourceName: LEDGER_TABLE_NAME,
    });
    this.breakGlass = new LedgerBreakGlassRole(this, 'BreakGlass');

    this.table = new SecureTable(this, 'Entries', {
      tableName: LEDGER_TABLE_NAME,
      encryptionKey: props.dataKey,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    }).table;

    this.signingKey = new kms.Key(this, 'CheckpointSigningKey', {
      alias: LEDGER_SIGNING_KEY_ALIAS,
      description: 'AOR audit ledger: signs checkpoints (C2SP signed notes) and witness cosignatures',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
      // Written out rather than the CDK default so that the denies below sit beside the one allow.
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'AccountGrantsThroughIam',
            // IAM policies decide who else may use the key (auditors read its public key this way).
            principals: [new iam.AccountRootPrincipal()],
            actions: ['kms:*'],
            resources: ['*'],
          }),
        ],
      }),
    });
    acknowledgeFindings(this.signingKey, {
      'AwsSolutions-KMS5':
        'KMS does not rotate asymmetric keys; verifiers pin this public key, and a new key would start a new checkpoint chain.',
      'NIST.800.53.R5-KMSBackingKeyRotationEnabled':
        'KMS does not rotate asymmetric keys; verifiers pin this public key, and a new key would start a new checkpoint chain.',
    });

    this.checkpoints = new SecureBucket(this, 'Checkpoints', {
      // SSE-S3, not the data key: a KMS key can be scheduled for deletion, and that would shred
      // the archive that Object Lock exists to keep. Checkpoints are public by design.
      accessLogs: props.accessLogs,
      accessLogPrefix: 'ledger-checkpoints/',
      objectLockRetention: props.checkpointRetention,
      noReplicationReason:
        "Checkpoints are signed and Object-Locked here, and the other region's ledger keeps its own cosigned copy of each; a replica would add nothing a verifier trusts.",
    }).bucket;
    acknowledgeFindings(this.checkpoints, {
      'NIST.800.53.R5-S3DefaultEncryptionKMS':
        'Signed checkpoints hold only tree sizes and root hashes, public by design; SSE-S3 keeps the Object-Locked archive readable even if someone schedules a KMS key for deletion, which would shred it.',
    });

    this.sequencer = new AorFunction(this, 'Sequencer', {
      entry: 'lambdas/handlers/ledger-sequencer.ts',
      description: 'Integrates pending audit records into the Merkle tree and signs a checkpoint',
      serviceName: 'audit-ledger',
      encryptionKey: props.dataKey,
      network: props.network,
      logRetention: props.logRetention,
      environment: {
        [SEQUENCER_ENVIRONMENT.tableName]: this.table.tableName,
        [SEQUENCER_ENVIRONMENT.origin]: this.origin,
        [SEQUENCER_ENVIRONMENT.signingKeyId]: this.signingKey.keyArn,
        [SEQUENCER_ENVIRONMENT.archiveBucket]: this.checkpoints.bucketName,
        [SEQUENCER_ENVIRONMENT.peerRegion]: props.peerRegion,
        [SEQUENCER_ENVIRONMENT.workflowWriters]: this.workflowWritersJson(props.workflowWriters),
      },
      timeout: Duration.minutes(5),
      memorySize: 1024,
      // One writer: the head's compare-and-set would reject a second one anyway, but it would
      // have wasted a KMS signature and a batch of writes first.
      reservedConcurrentExecutions: 1,
    });
    this.grantSequencing(props);
    new events.Rule(this, 'SequencerSchedule', {
      description: 'Integrate pending audit records every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.sequencer.function, { retryAttempts: 0 })],
    });

    this.protectTable();
    this.protectKeys(props.dataKey);
    this.protectArchive();
    this.operatorPolicy = this.operatorRecordingPolicy(props.dataKey);
  }

  /**
   * `{ "<writer>": "<execution ARN prefix>" }`: the sequencer accepts a workflow's record only when
   * its actor is an execution of that writer's own state machine.
   */
  private workflowWritersJson(writers: AuditLedgerProps['workflowWriters']): string {
    const stack = Stack.of(this);
    const prefixes = Object.fromEntries(
      Object.entries(writers).map(([writer, stateMachineName]) => [
        writer,
        // The partition is a CloudFormation reference: the prefix is joined at deploy time.
        executionArnPrefix(stack.partition, stack.region, stack.account, stateMachineName),
      ]),
    );
    return stack.toJsonString(prefixes);
  }

  /** Exactly what the sequencer's code calls, and nothing that changes or removes an item. */
  private grantSequencing(props: AuditLedgerProps): void {
    const stack = Stack.of(this);
    const role = this.sequencer.role;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteTreeCheckpointsHeadAndQueue',
        actions: ['dynamodb:PutItem'],
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [...LEDGER_LEADING_KEYS.sequencerOnly, LEDGER_PARTITIONS.pending],
          },
        },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadLedger',
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
        resources: [this.table.tableArn],
      }),
    );
    grantDataKeyUse(props.dataKey, role);
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'SignCheckpoints',
        actions: ['kms:Sign', 'kms:GetPublicKey'],
        resources: [this.signingKey.keyArn],
      }),
    );
    const archivePrefixes = Object.values(LEDGER_ARCHIVE_PREFIXES).map((prefix) => `${prefix}*`);
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveCheckpoints',
        actions: ['s3:PutObject', 's3:GetObject', 's3:GetObjectVersion'],
        resources: archivePrefixes.map((prefix) => this.checkpoints.arnForObjects(prefix)),
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListArchivedVersions',
        actions: ['s3:ListBucketVersions'],
        resources: [this.checkpoints.bucketArn],
        conditions: { StringLike: { 's3:prefix': archivePrefixes } },
      }),
    );

    // Witnessing the other region: its checkpoints and tree nodes, its public key, and the data
    // key DynamoDB decrypts those items with. Named by fixed names and aliases, not references,
    // so that neither region's stack depends on the other.
    const peer = props.peerRegion;
    const peerKeys = stack.formatArn({ service: 'kms', region: peer, resource: 'key', resourceName: '*' });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WitnessPeerLog',
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
        resources: [
          stack.formatArn({
            service: 'dynamodb',
            region: peer,
            resource: 'table',
            resourceName: LEDGER_TABLE_NAME,
          }),
        ],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...LEDGER_LEADING_KEYS.witnessReads] },
        },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadPeerPublicKey',
        actions: ['kms:GetPublicKey'],
        resources: [peerKeys],
        conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': LEDGER_SIGNING_KEY_ALIAS } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptPeerLogItems',
        actions: ['kms:Decrypt'],
        resources: [peerKeys],
        conditions: {
          'ForAnyValue:StringEquals': { 'kms:ResourceAliases': LEDGER_DATA_KEY_ALIAS },
          StringEquals: { 'kms:ViaService': `dynamodb.${peer}.${stack.urlSuffix}` },
        },
      }),
    );

    const bucket = stack.getLogicalId(this.checkpoints.node.defaultChild as s3.CfnBucket);
    const archiveReason =
      'The sequencer writes and reads one object per checkpoint, named by tree size, under its archive prefix; the prefix is the narrowest scope that allows new ones, and puts are write-once (If-None-Match, Object Lock).';
    acknowledgeFindings(this.sequencer, {
      ...Object.fromEntries(
        archivePrefixes.map((prefix) => [
          `AwsSolutions-IAM5[Resource::<${bucket}.Arn>/${prefix}]`,
          archiveReason,
        ]),
      ),
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:${peer}:${stack.account}:key/*]`]:
        "The other region's signing and data keys are in another stack and region; each statement is limited to one key by its alias (kms:ResourceAliases), the data key also to DynamoDB (kms:ViaService).",
    });
  }

  /**
   * The table's resource policy: what no identity policy can grant, whatever it says. A deny in a
   * resource policy also stops administrators whose own policies allow `dynamodb:*`.
   */
  private protectTable(): void {
    const table = [this.tableArn];
    const leadingKeys = (patterns: readonly string[]) => ({ 'dynamodb:LeadingKeys': [...patterns] });
    this.breakGlass.reserve(this.table, {
      sid: 'OnlyTheSequencerWritesTheTree',
      actions: ['dynamodb:PutItem'],
      policyResources: table,
      arns: table,
      conditions: { 'ForAnyValue:StringLike': leadingKeys(LEDGER_LEADING_KEYS.sequencerOnly) },
      alsoExempt: [this.sequencer.role.roleArn],
    });
    // Every workflow namespace, in both regions: a region's sequencer accepts only its own
    // region's workflows, and nobody else may stand in for one. A missing tag does not equal the
    // writer, so untagged administrators are denied too.
    for (const writer of Object.values(WORKFLOW_WRITERS)) {
      this.breakGlass.reserve(this.table, {
        sid: `OnlyTagged${pascalCase(writer)}RolesWriteItsRequests`,
        actions: ['dynamodb:PutItem'],
        policyResources: table,
        arns: table,
        conditions: {
          'ForAnyValue:StringLike': leadingKeys([LEDGER_PARTITIONS.request(writer, '*')]),
          StringNotEquals: { [`aws:PrincipalTag/${LEDGER_WRITER_TAG}`]: writer },
        },
      });
    }
    // A person records only as themself: IAM fills in the caller's own user id.
    this.table.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'PeopleWriteOnlyTheirOwnRequests',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['dynamodb:PutItem'],
        resources: table,
        conditions: {
          'ForAnyValue:StringLike': leadingKeys([PRINCIPAL_REQUESTS_PATTERN]),
          'ForAnyValue:StringNotLike': leadingKeys([
            LEDGER_PARTITIONS.request(PRINCIPAL_WRITER_POLICY_VARIABLE, '*'),
          ]),
        },
      }),
    );
    this.breakGlass.reserve(this.table, {
      sid: 'ItemsAreNeverChangedOrDeleted',
      actions: [
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:PartiQLInsert',
        'dynamodb:PartiQLUpdate',
        'dynamodb:PartiQLDelete',
      ],
      policyResources: table,
      arns: table,
    });
    // Restoring to a point in time is left alone: it creates a new table and cannot touch this one.
    this.breakGlass.reserve(this.table, {
      sid: 'TableAndItsProtectionsStay',
      actions: [
        'dynamodb:DeleteTable',
        // Turns off deletion protection.
        'dynamodb:UpdateTable',
        // Time to live would delete items.
        'dynamodb:UpdateTimeToLive',
        // Turns off point-in-time recovery.
        'dynamodb:UpdateContinuousBackups',
        'dynamodb:PutResourcePolicy',
        'dynamodb:DeleteResourcePolicy',
      ],
      policyResources: table,
      arns: table,
      deployer: true,
    });
  }

  /** Only the sequencer signs; keys are disabled, deleted or granted away only through break-glass. */
  private protectKeys(dataKey: kms.IKey): void {
    this.signingKey.addToResourcePolicy(
      denyToAllBut('OnlyTheSequencerSigns', ['kms:Sign'], ['*'], [this.sequencer.role.roleArn]),
    );
    // A grant could hand kms:Sign to anyone, around the key policy.
    this.breakGlass.reserveKeyAdministration(this.signingKey, 'SigningKey', ['kms:CreateGrant']);
    this.breakGlass.reserveKeyAdministration(dataKey, 'DataKey');
  }

  /**
   * Checkpoints are written once and kept: no overwrite with a newer version, no deletion, no
   * change to the retention, the lock, versioning or lifecycle. Object Lock (compliance mode) keeps
   * every version even if this policy goes (the S3 account root can always delete a bucket policy).
   */
  private protectArchive(): void {
    const bucket = this.checkpoints;
    // Conditional writes only (If-None-Match): a put to an existing key fails instead of stacking a
    // newer version on top of a checkpoint that readers would then see first. No exemption.
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CheckpointsAreNeverOverwritten',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects('*')],
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }),
    );
    const both = [bucket.bucketArn, bucket.arnForObjects('*')];
    this.breakGlass.reserve(bucket, {
      sid: 'CheckpointsAndTheirLockStay',
      actions: [
        's3:DeleteObject',
        's3:DeleteObjectVersion',
        's3:PutObjectRetention',
        's3:PutObjectLegalHold',
        's3:BypassGovernanceRetention',
        's3:PutLifecycleConfiguration',
        's3:PutBucketObjectLockConfiguration',
        's3:PutBucketVersioning',
        's3:DeleteBucket',
      ],
      policyResources: both,
      arns: both,
    });
    this.breakGlass.reserve(bucket, {
      sid: 'ArchivePolicyStays',
      actions: ['s3:PutBucketPolicy', 's3:DeleteBucketPolicy'],
      policyResources: [bucket.bucketArn],
      arns: [bucket.bucketArn],
      deployer: true,
    });
    acknowledgeFindings(this.breakGlass, {
      [`AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`]:
        'Break-glass exists to act on any archived checkpoint (e.g. a legal hold); it is limited to this one bucket, MFA and one-hour sessions.',
    });
  }

  /**
   * For people who record their own actions with the `aor` CLI under their own credentials: put
   * requests in their own namespace (`principal/<aws:userid>`, filled in by IAM) and queue them,
   * read back their receipts and the head.
   */
  private operatorRecordingPolicy(dataKey: kms.IKey): iam.ManagedPolicy {
    const stack = Stack.of(this);
    const leadingKeys = (patterns: readonly string[]) => ({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...patterns] },
    });
    return new iam.ManagedPolicy(this, 'OperatorRecording', {
      managedPolicyName: `aor-ledger-operator-recording-${stack.region}`,
      description: `AOR audit ledger (${stack.region}): record your own actions with the aor CLI`,
      statements: [
        new iam.PolicyStatement({
          sid: 'AppendOwnRecords',
          actions: ['dynamodb:PutItem'],
          resources: [this.table.tableArn],
          conditions: leadingKeys(LEDGER_LEADING_KEYS.writer(PRINCIPAL_WRITER_POLICY_VARIABLE)),
        }),
        new iam.PolicyStatement({
          sid: 'ReadOwnReceipts',
          actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
          resources: [this.table.tableArn],
          conditions: leadingKeys(LEDGER_LEADING_KEYS.writerReads(PRINCIPAL_WRITER_POLICY_VARIABLE)),
        }),
        new iam.PolicyStatement({
          sid: 'UseLedgerDataKeyThroughDynamoDb',
          actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [dataKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.${stack.urlSuffix}` } },
        }),
      ],
    });
  }
}

/**
 * Lets a workflow's task role append audit records to the ledger of its own region, under its own
 * namespace only: put its requests and queue them, read its receipts and the head. The role is
 * tagged with its writer, which the table's policy checks.
 */
export function grantLedgerAppend(grantee: iam.IRole, table: dynamodb.ITable, writer: WorkflowWriter): void {
  const leadingKeys = (patterns: readonly string[]) => ({
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...patterns] },
  });
  grantee.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'AppendAuditRecords',
      actions: ['dynamodb:PutItem'],
      resources: [table.tableArn],
      conditions: leadingKeys(LEDGER_LEADING_KEYS.writer(writer)),
    }),
  );
  grantee.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadAuditReceipts',
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
      resources: [table.tableArn],
      conditions: leadingKeys(LEDGER_LEADING_KEYS.writerReads(writer)),
    }),
  );
  if (!table.encryptionKey) throw new Error(`${table.node.path}: the ledger table has no customer key`);
  grantDataKeyUse(table.encryptionKey, grantee);
  Tags.of(grantee).add(LEDGER_WRITER_TAG, writer);
}

/** The environment a ledger writer's function reads (WRITER_ENVIRONMENT). */
export function ledgerWriterEnvironment(
  table: dynamodb.ITable,
  writer: WorkflowWriter,
): Record<string, string> {
  return { [WRITER_ENVIRONMENT.tableName]: table.tableName, [WRITER_ENVIRONMENT.writer]: writer };
}

function pascalCase(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, _dash: string, letter: string) => letter.toUpperCase());
}
