import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { writerIdentifier } from '../../lambdas/adapters/aws/rds-databases';
import { FINAL_SNAPSHOT_INFIX } from '../../lambdas/adapters/aws/rds-recovered-databases';
import type { DatabaseKind } from '../../lambdas/core/operations/ports';
import { RECOVERY_POINT_TAG, RECOVERY_PROMOTED_TAG } from '../../lambdas/core/recovery/ports';
import { RECOVERY_RUN_TAG, type RecoverySettings } from '../../lambdas/core/recovery/recovery';
import { DATABASE_PHASE_DEADLINE_MINUTES } from '../../lambdas/core/recovery/database-steps';
import { buildDisasterRecoveryDefinition } from '../../state-machines/disaster-recovery/definition';
import { canonicalDnsName, FAILOVER_SIGNAL } from '../../lambdas/adapters/aws/dr-failover-signal';
import { WORKFLOW_WRITERS } from '../../lambdas/core/ledger/ledger-contract';
import { RUNS_SUBJECT_INDEX } from '../../lambdas/core/recovery/recovery-contract';
import { RECOVERY_STATE_MACHINE_NAME } from '../../lambdas/shared/state-machine-names';
import { CLUSTER_GROUPS, clusterGroupAccess } from '../cluster-access';
import { acknowledgeFindings } from '../compliance';
import type { AorConfig } from '../config';
import { AorFunction } from './aor-function';
import { AorStateMachine } from './aor-state-machine';
import { trafficRoutingSettings } from './dr-traffic-failover';
import { grantLedgerAppend, ledgerWriterEnvironment } from './audit-ledger';
import { grantDataKeyUse } from './customer-key';
import type { TaskNetwork } from './task-network';

// Shared with the ledger's sequencer, which accepts this workflow's records only from its executions.
export { RECOVERY_STATE_MACHINE_NAME };

export interface DisasterRecoveryWorkflowProps {
  readonly config: AorConfig;
  readonly encryptionKey: kms.IKey;
  readonly runs: dynamodb.ITable;
  readonly network: TaskNetwork;
  /** The DR region's ops-team topic: routing approval requests. */
  readonly opsTopic: sns.ITopic;
  /** The DR region's ledger table: a recovery run records its steps in the region it runs in. */
  readonly ledger: dynamodb.ITable;
}

/** A health check's reads and the record's TTL move in minutes; ten without seeing the DR site answer is a failed switch. */
const ROUTING_DEADLINE_SECONDS = 600;
/** The step task's timeout: validation runs two check Jobs in turn, each waited for up to 5 minutes. */
const STEP_TIMEOUT_MINUTES = 15;
/** Begin, validate-site, the polls' own time, finish: what a run spends besides its steps' deadlines. */
const RUN_OVERHEAD_MINUTES = 30;

/**
 * The longest a run can take with every step at its deadline: its execution's timeout, and how long
 * the one-run lock holds, so that the lock never expires under a live run (one waiting hours for its
 * approval included). A run whose execution died holds the lock as long: a second run could
 * otherwise collide with what the first may still be doing.
 */
export function recoveryRunLimitMinutes(config: Pick<AorConfig, 'disasterRecovery'>): number {
  const dr = config.disasterRecovery;
  // The two restores run in parallel; a drill's database is a twin made, then promoted.
  const restoreData = Math.max(dr.jobs.restore.activeDeadlineMinutes, 2 * DATABASE_PHASE_DEADLINE_MINUTES);
  return (
    restoreData +
    Math.ceil(dr.applicationDeadlineSeconds / 60) +
    STEP_TIMEOUT_MINUTES +
    dr.approvalTimeoutMinutes +
    ROUTING_DEADLINE_SECONDS / 60 +
    RUN_OVERHEAD_MINUTES
  );
}

/**
 * The disaster recovery state machine in the DR region and its task: one function (every step
 * needs the DR site's RDS, S3, EKS and Route 53), granted exactly those, and an EKS access entry
 * on the DR cluster. Started with `aor dr start` (or the console, which names no starter).
 */
export class DisasterRecoveryWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly step: AorFunction;

  constructor(scope: Construct, id: string, props: DisasterRecoveryWorkflowProps) {
    super(scope, id);
    const { config } = props;
    this.step = new AorFunction(this, 'Step', {
      entry: 'lambdas/handlers/recovery/step.ts',
      description: 'Runs one step of a disaster recovery run in the DR region',
      serviceName: 'disaster-recovery',
      encryptionKey: props.encryptionKey,
      network: props.network,
      logRetention: config.logRetentionDays,
      timeout: Duration.minutes(STEP_TIMEOUT_MINUTES),
      environment: {
        RUNS_TABLE_NAME: props.runs.tableName,
        ...ledgerWriterEnvironment(props.ledger, WORKFLOW_WRITERS.disasterRecovery),
        EKS_CLUSTER_NAME: config.dr.eksClusterName,
        RECOVERY_SETTINGS: JSON.stringify(recoverySettings(config)),
        OPS_TOPIC_ARN: props.opsTopic.topicArn,
      },
    });
    this.grant(props);

    this.stateMachine = new AorStateMachine(this, 'Workflow', {
      stateMachineName: RECOVERY_STATE_MACHINE_NAME,
      definition: buildDisasterRecoveryDefinition(this, this.step.function),
      encryptionKey: props.encryptionKey,
      logRetention: config.logRetentionDays,
      timeout: Duration.minutes(recoveryRunLimitMinutes(config)),
      functions: [this.step],
    }).stateMachine;
  }

  /** Exactly what the step task's code calls, one concern per method. */
  private grant(props: DisasterRecoveryWorkflowProps): void {
    const role = this.step.role;
    // The table and its one index by name (a grant on the table would add every index, `/index/*`).
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
        ],
        resources: [props.runs.tableArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${props.runs.tableArn}/index/${RUNS_SUBJECT_INDEX.name}`],
      }),
    );
    grantDataKeyUse(props.encryptionKey, role);
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.opsTopic.topicArn] }),
    );
    grantLedgerAppend(role, props.ledger, WORKFLOW_WRITERS.disasterRecovery);
    this.grantDatabaseRecovery(props.config);
    this.grantBackups(props.config);
    this.grantRouting(props.config);
    this.grantCluster(props.config);
  }

  private arn(
    service: string,
    resource: string,
    resourceName: string,
    extra: Partial<{ region: string; account: string }> = {},
  ): string {
    return Stack.of(this).formatArn({
      service,
      resource,
      resourceName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      ...extra,
    });
  }

  /**
   * The DR database's RDS actions, each on exactly the databases it is for: the snapshot target
   * (`dr.database`), the standby replica, and the `-drill` twins a dry run creates of them. A run
   * creates only databases tagged with its run (`aws:RequestTag`), and tags a database with a run
   * only as it creates it: tag-on-create is authorized as `rds:AddTagsToResource` with the request's
   * tags, and outside a create only the promoted mark may be added. Deletes need the run tag on the
   * database (`aws:ResourceTag`); that it is this run's is checked by the task as it deletes. A
   * database marked promoted can never be given a run tag again, so no run can delete it.
   */
  private grantDatabaseRecovery(config: AorConfig): void {
    const role = this.step.role;
    const arn = this.arn.bind(this);
    const dr = config.disasterRecovery;
    const subnetGroup = arn('rds', 'subgrp', dr.subnetGroupName);
    const target = config.dr.database;
    const standby =
      dr.standbyReplica === undefined
        ? undefined
        : { kind: config.primary.database.kind, identifier: dr.standbyReplica };
    const drill = (database: { kind: DatabaseKind; identifier: string }) => ({
      ...database,
      identifier: `${database.identifier}-drill`,
    });
    // A cluster is reached by its own ARN and its writer's, the instance AOR creates in it.
    const arns = (database: { kind: DatabaseKind; identifier: string }) =>
      database.kind === 'instance'
        ? [arn('rds', 'db', database.identifier)]
        : [
            arn('rds', 'cluster', database.identifier),
            arn('rds', 'db', writerIdentifier(database.identifier)),
          ];
    // What a run may create, and so delete: the restore target, its twin, and (instances only) the standby's twin.
    const created = [target, drill(target), ...(standby?.kind === 'instance' ? [drill(standby)] : [])];
    const promoted = [...(standby ? [standby, drill(standby)] : [])];
    const finalSnapshots = created.flatMap(({ kind, identifier }) => [
      arn(
        'rds',
        kind === 'instance' ? 'snapshot' : 'cluster-snapshot',
        `${identifier}${FINAL_SNAPSHOT_INFIX}*`,
      ),
    ]);
    const source = config.primary.database;
    const runTagKnown = { Null: { [`aws:RequestTag/${RECOVERY_RUN_TAG}`]: 'false' } };

    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheDrDatabasesAndSnapshots',
        actions: [
          'rds:DescribeDBInstances',
          'rds:DescribeDBClusters',
          'rds:DescribeDBSnapshots',
          'rds:DescribeDBClusterSnapshots',
        ],
        resources: [
          ...[...created, ...promoted].flatMap(arns),
          // Snapshots are listed by their source's identifier, which names no database in this region.
          arn('rds', source.kind === 'instance' ? 'db' : 'cluster', source.identifier),
          arn('rds', 'snapshot', '*'),
          arn('rds', 'cluster-snapshot', '*'),
          // An Aurora replica cluster's instances are named by whoever made it.
          ...(standby?.kind === 'aurora-cluster' ? [arn('rds', 'db', '*')] : []),
        ],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'CreateOnlyTaggedWithTheRun',
        actions: [
          'rds:RestoreDBInstanceFromDBSnapshot',
          'rds:RestoreDBClusterFromSnapshot',
          'rds:CreateDBInstance',
          'rds:CreateDBInstanceReadReplica',
          'rds:AddTagsToResource',
        ],
        resources: created.flatMap(arns),
        conditions: { ...runTagKnown, 'ForAllValues:StringLike': { 'aws:TagKeys': ['aor:*'] } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'CreateFromTheSitesSources',
        actions: [
          'rds:RestoreDBInstanceFromDBSnapshot',
          'rds:RestoreDBClusterFromSnapshot',
          'rds:CreateDBInstance',
          'rds:CreateDBInstanceReadReplica',
        ],
        resources: [
          arn('rds', 'snapshot', '*'),
          arn('rds', 'cluster-snapshot', '*'),
          arn('rds', 'og', '*'),
          arn('rds', 'pg', '*'),
          arn('rds', 'cluster-pg', '*'),
          subnetGroup,
        ],
        conditions: runTagKnown,
      }),
    );
    if (standby?.kind === 'instance') {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReplicateTheStandbyForADrill',
          actions: ['rds:CreateDBInstanceReadReplica'],
          resources: arns(standby),
          conditions: runTagKnown,
        }),
      );
    }
    if (standby) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'PromoteTheStandby',
          actions: ['rds:PromoteReadReplica', 'rds:PromoteReadReplicaDBCluster'],
          resources: promoted.flatMap(arns),
        }),
      );
    }
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'MarkWhatARunPromoted',
        actions: ['rds:AddTagsToResource'],
        resources: [target, ...promoted].flatMap(arns),
        conditions: {
          Null: { [`aws:RequestTag/${RECOVERY_PROMOTED_TAG}`]: 'false' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [RECOVERY_PROMOTED_TAG, RECOVERY_POINT_TAG] },
        },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ProtectWhatARunRecovered',
        actions: ['rds:ModifyDBInstance', 'rds:ModifyDBCluster'],
        resources: [target, ...(standby ? [standby] : [])].flatMap(arns),
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RemoveTheRunTagFromWhatItKeeps',
        actions: ['rds:RemoveTagsFromResource'],
        resources: arns(target),
        conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [RECOVERY_RUN_TAG] } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DeleteOnlyWhatARunCreated',
        actions: ['rds:DeleteDBInstance', 'rds:DeleteDBCluster'],
        resources: created.flatMap(arns),
        conditions: { Null: { [`aws:ResourceTag/${RECOVERY_RUN_TAG}`]: 'false' } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'TakeFinalSnapshotsNamedAfterTheRun',
        // A cluster's delete names its final snapshot; either delete copies the database's tags to it.
        actions: ['rds:DeleteDBCluster', 'rds:AddTagsToResource'],
        resources: finalSnapshots,
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'NeverReArmAPromotedDatabase',
        effect: iam.Effect.DENY,
        actions: ['rds:AddTagsToResource'],
        resources: ['*'],
        conditions: {
          Null: { [`aws:ResourceTag/${RECOVERY_PROMOTED_TAG}`]: 'false' },
          'ForAnyValue:StringEquals': { 'aws:TagKeys': [RECOVERY_RUN_TAG] },
        },
      }),
    );
    if (standby) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadTheStandbysLag',
          actions: ['cloudwatch:GetMetricData'],
          resources: ['*'],
        }),
      );
    }
    this.acknowledge({
      ...(standby && {
        '*': "cloudwatch:GetMetricData (the standby replica's ReplicaLag) and PutMetricData have no resource-level permissions; X-Ray and the VPC network-interface actions have none either.",
      }),
      [partitionArn('rds', `${this.here()}:snapshot:*`)]:
        'Which snapshot is restored is chosen at run time (latest or by date), among copies named by the copy job.',
      [partitionArn('rds', `${this.here()}:cluster-snapshot:*`)]:
        'Which cluster snapshot is restored is chosen at run time, among copies named by the copy job.',
      [partitionArn('rds', `${this.here()}:og:*`)]:
        'A restore or a replica uses the option group its snapshot or source names, known only at run time.',
      [partitionArn('rds', `${this.here()}:pg:*`)]:
        'A restore or a replica uses the parameter group its snapshot or source names, known only at run time.',
      [partitionArn('rds', `${this.here()}:cluster-pg:*`)]:
        'A cluster restore uses the cluster parameter group its snapshot names, known only at run time.',
      ...Object.fromEntries(
        created.map(({ kind, identifier }) => [
          partitionArn(
            'rds',
            `${this.here()}:${kind === 'instance' ? 'snapshot' : 'cluster-snapshot'}:${identifier}${FINAL_SNAPSHOT_INFIX}*`,
          ),
          `The final snapshot a run's clean-up takes of ${identifier} is named after the run, known only at run time.`,
        ]),
      ),
      ...(standby?.kind === 'aurora-cluster' && {
        [partitionArn('rds', `${this.here()}:db:*`)]:
          "Read only: the instances of the Aurora standby cluster are named by whoever made it, and its writer's state is the cluster's.",
      }),
    });
  }

  /** Reading the blockchain backups and the integrity manifests. */
  private grantBackups(config: AorConfig): void {
    const role = this.step.role;
    const bucket = Stack.of(this).formatArn({
      service: 's3',
      region: '',
      account: '',
      resource: config.backupBucketName,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket],
        conditions: { StringLike: { 's3:prefix': ['blockchain/*', 'manifests/*'] } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`${bucket}/manifests/*`] }),
    );
    this.acknowledge({
      [partitionArn('s3', `::${config.backupBucketName}/manifests/*`)]:
        'Integrity manifests are read from the manifests/ prefix of the backup bucket, one per backup day.',
    });
  }

  /**
   * Sending the record's traffic to the DR site, by the configured mode, and the target group's health
   * check path. Failover mode needs no Route 53 permission at all: only the failover signal's datapoint.
   * Watching the switch takes none either: it is a DNS query to the VPC's resolver.
   */
  private grantRouting(config: AorConfig): void {
    const role = this.step.role;
    const { routing } = config;
    if (routing.mode === 'failover') {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'PublishTheFailoverSignal',
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': FAILOVER_SIGNAL.namespace } },
        }),
      );
      this.acknowledge({
        '*': `cloudwatch:PutMetricData has no resource-level permissions, so it is held to the failover signal's namespace (${FAILOVER_SIGNAL.namespace}); X-Ray and the VPC network-interface actions have none either.`,
      });
    } else {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'UpsertTheRecord',
          actions: ['route53:ChangeResourceRecordSets'],
          resources: [
            Stack.of(this).formatArn({
              service: 'route53',
              region: '',
              account: '',
              resource: 'hostedzone',
              resourceName: routing.hostedZoneId,
            }),
          ],
          conditions: {
            'ForAllValues:StringEquals': {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': [canonicalDnsName(routing.recordName)],
              'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
              'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
            },
          },
        }),
      );
    }
    if (config.disasterRecovery.targetGroupArn) {
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['elasticloadbalancing:ModifyTargetGroup'],
          resources: [config.disasterRecovery.targetGroupArn],
        }),
      );
    }
  }

  /** The DR cluster: its endpoint, and the access entry that maps the task's role into it. */
  private grantCluster(config: AorConfig): void {
    const role = this.step.role;
    const stack = Stack.of(this);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['eks:DescribeCluster'],
        resources: [
          stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: config.dr.eksClusterName }),
        ],
      }),
    );
    // Inside the cluster the task is one Kubernetes group, granted by deploy/rbac/disaster-recovery.yaml:
    // the run's kinds in the platform namespace and its -drill twin (no Secrets, no exec) and, cluster
    // wide, reading its storage class. The namespaces are the deployer's, not the run's to create.
    clusterGroupAccess(this, 'DrClusterAccess', {
      clusterName: config.dr.eksClusterName,
      role,
      group: CLUSTER_GROUPS.disasterRecovery,
    });
  }

  private here(): string {
    const stack = Stack.of(this);
    return `${stack.region}:${stack.account}`;
  }

  /** cdk-nag IAM5 acknowledgements on the task, by the wildcard resource each one explains. */
  private acknowledge(why: Record<string, string>): void {
    acknowledgeFindings(
      this.step,
      Object.fromEntries(
        Object.entries(why).map(([resource, reason]) => [`AwsSolutions-IAM5[Resource::${resource}]`, reason]),
      ),
    );
  }
}

/** How cdk-nag writes a partition-aware ARN in its finding ids. */
function partitionArn(service: string, rest: string): string {
  return `arn:<AWS::Partition>:${service}:${rest}`;
}

/** The task's RecoverySettings, from the deployment configuration. */
export function recoverySettings(config: AorConfig): RecoverySettings {
  const dr = config.disasterRecovery;
  const { restore } = dr.jobs;
  return {
    drRegion: config.drRegion,
    clusterName: config.dr.eksClusterName,
    namespace: config.kubernetesNamespace,
    sourceDatabase: config.primary.database,
    targetDatabase: config.dr.database,
    recoveryMode: dr.recoveryMode,
    // The standby replicates primary.database, so it is of its kind.
    ...(dr.standbyReplica && {
      standbyReplica: { kind: config.primary.database.kind, identifier: dr.standbyReplica },
    }),
    instanceClass: dr.instanceClass,
    subnetGroupName: dr.subnetGroupName,
    securityGroupIds: dr.securityGroupIds,
    backupBucket: config.backupBucketName,
    storageClass: dr.storageClass,
    blockchainVolumeSize: dr.blockchainVolumeSize,
    jobs: {
      ...dr.jobs,
      restore: {
        image: restore.image,
        serviceAccount: restore.serviceAccount,
        activeDeadlineSeconds: restore.activeDeadlineMinutes * 60,
      },
    },
    manifests: dr.manifests as RecoverySettings['manifests'],
    workloads: dr.workloads,
    applicationDeadlineSeconds: dr.applicationDeadlineSeconds,
    validation: {
      healthUrl: `http://blockchain-service:9090${dr.healthCheckPath}`,
      integrity: 'row-counts',
    },
    routing: trafficRoutingSettings(config),
    routingDeadlineSeconds: ROUTING_DEADLINE_SECONDS,
    objectives: { rtoSeconds: dr.rtoMinutes * 60, rpoSeconds: dr.rpoMinutes * 60 },
    lockTtlSeconds: recoveryRunLimitMinutes(config) * 60,
    approvalRequired: dr.approvalRequired,
    approvalTimeoutSeconds: dr.approvalTimeoutMinutes * 60,
  };
}
