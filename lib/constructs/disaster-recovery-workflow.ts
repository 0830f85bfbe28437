import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { RecoverySettings } from '../../lambdas/core/recovery/recovery';
import { buildDisasterRecoveryDefinition } from '../../state-machines/disaster-recovery/definition';
import { WORKFLOW_WRITERS } from '../../lambdas/core/ledger/ledger-contract';
import { RECOVERY_STATE_MACHINE_NAME } from '../../lambdas/shared/state-machine-names';
import { acknowledgeFindings } from '../compliance';
import type { AorConfig } from '../config';
import { AorFunction } from './aor-function';
import { AorStateMachine } from './aor-state-machine';
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

/**
 * The disaster recovery state machine in the DR region and its task: one function (every step
 * needs the DR site's RDS, S3, EKS and Route 53), granted exactly those, and an EKS access entry
 * on the DR cluster. Started from the console or `aws stepfunctions start-execution`.
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
      timeout: Duration.minutes(5),
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
      // A 25-minute restore, the rollout, validation and an operator's approval (4 hours at most).
      timeout: Duration.hours(6),
      functions: [this.step],
    }).stateMachine;
  }

  /** Exactly what the step task's code calls, one concern per method. */
  private grant(props: DisasterRecoveryWorkflowProps): void {
    const role = this.step.role;
    props.runs.grant(role, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query');
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

  /** Finding snapshots, restoring, and deleting only what a run restored. */
  private grantDatabaseRecovery(config: AorConfig): void {
    const role = this.step.role;
    const arn = this.arn.bind(this);
    const target = config.dr.database.identifier;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'FindAndRestoreSnapshots',
        actions: [
          'rds:DescribeDBSnapshots',
          'rds:DescribeDBClusterSnapshots',
          'rds:DescribeDBInstances',
          'rds:DescribeDBClusters',
          'rds:RestoreDBInstanceFromDBSnapshot',
          'rds:RestoreDBClusterFromSnapshot',
          'rds:CreateDBInstance',
          'rds:AddTagsToResource',
        ],
        resources: [
          arn('rds', 'snapshot', '*'),
          arn('rds', 'cluster-snapshot', '*'),
          arn('rds', 'db', `${target}*`),
          arn('rds', 'cluster', `${target}*`),
          arn('rds', 'subgrp', config.disasterRecovery.subnetGroupName),
          arn('rds', 'og', '*'),
          arn('rds', 'pg', '*'),
          arn('rds', 'cluster-pg', '*'),
        ],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DeleteOnlyWhatARunRestored',
        actions: ['rds:DeleteDBInstance', 'rds:DeleteDBCluster'],
        resources: [arn('rds', 'db', `${target}*`), arn('rds', 'cluster', `${target}*`)],
        conditions: { Null: { 'aws:ResourceTag/aor:recovery-run': 'false' } },
      }),
    );
    this.acknowledge({
      [partitionArn('rds', `${this.here()}:snapshot:*`)]:
        'Which snapshot is restored is chosen at run time (latest or by date).',
      [partitionArn('rds', `${this.here()}:cluster-snapshot:*`)]:
        'Which cluster snapshot is restored is chosen at run time.',
      [partitionArn('rds', `${this.here()}:db:${target}*`)]:
        'Restore targets are the configured DR database name, with a -drill suffix for dry runs; deletes also need the recovery-run tag.',
      [partitionArn('rds', `${this.here()}:cluster:${target}*`)]:
        'Restore targets are the configured DR cluster name, with a -drill suffix for dry runs; deletes also need the recovery-run tag.',
      [partitionArn('rds', `${this.here()}:og:*`)]:
        'A restore reads the option group the snapshot names, known only at run time.',
      [partitionArn('rds', `${this.here()}:pg:*`)]:
        'A restore reads the parameter group the snapshot names, known only at run time.',
      [partitionArn('rds', `${this.here()}:cluster-pg:*`)]:
        'A cluster restore reads the parameter group the snapshot names.',
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

  /** Switching the record to the DR site, and the target group's health check path. */
  private grantRouting(config: AorConfig): void {
    const role = this.step.role;
    const stack = Stack.of(this);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['route53:ChangeResourceRecordSets'],
        resources: [
          stack.formatArn({
            service: 'route53',
            region: '',
            account: '',
            resource: 'hostedzone',
            resourceName: config.routing.hostedZoneId,
          }),
        ],
        conditions: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': [
              config.routing.recordName.replace(/\.$/, '').toLowerCase(),
            ],
          },
        },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['route53:GetChange'],
        resources: [
          stack.formatArn({
            service: 'route53',
            region: '',
            account: '',
            resource: 'change',
            resourceName: '*',
          }),
        ],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['elasticloadbalancing:DescribeLoadBalancers'], resources: ['*'] }),
    );
    if (config.disasterRecovery.targetGroupArn) {
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['elasticloadbalancing:ModifyTargetGroup'],
          resources: [config.disasterRecovery.targetGroupArn],
        }),
      );
    }
    this.acknowledge({
      [partitionArn('route53', '::change/*')]:
        'Route 53 change ids exist only once the record change is made.',
    });
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
    // Recovery creates namespaces and cluster-wide lookups (discovery, storage classes): the access
    // entry maps the task's role to cluster-scoped admin on the DR cluster only.
    new eks.CfnAccessEntry(this, 'DrClusterAccess', {
      clusterName: config.dr.eksClusterName,
      principalArn: role.roleArn,
      type: 'STANDARD',
      accessPolicies: [
        {
          policyArn: stack.formatArn({
            service: 'eks',
            region: '',
            account: '',
            resource: 'cluster-access-policy',
            resourceName: 'AmazonEKSAdminPolicy',
          }),
          accessScope: { type: 'cluster' },
        },
      ],
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
  return {
    drRegion: config.drRegion,
    clusterName: config.dr.eksClusterName,
    namespace: config.kubernetesNamespace,
    sourceDatabase: config.primary.database,
    targetDatabase: config.dr.database,
    instanceClass: dr.instanceClass,
    subnetGroupName: dr.subnetGroupName,
    securityGroupIds: dr.securityGroupIds,
    backupBucket: config.backupBucketName,
    storageClass: dr.storageClass,
    blockchainVolumeSize: dr.blockchainVolumeSize,
    restoreImage: dr.restoreImage,
    manifests: dr.manifests as RecoverySettings['manifests'],
    workloads: dr.workloads,
    applicationDeadlineSeconds: dr.applicationDeadlineSeconds,
    validation: {
      healthUrl: `http://blockchain-service:9090${dr.healthCheckPath}`,
      integrity: 'row-counts',
      checkImage: dr.restoreImage,
    },
    routing: {
      hostedZoneId: config.routing.hostedZoneId,
      recordName: config.routing.recordName,
      drTarget: dr.drTarget,
      ...(dr.targetGroupArn && { targetGroupArn: dr.targetGroupArn }),
      healthCheckPath: dr.healthCheckPath,
    },
    objectives: { rtoSeconds: dr.rtoMinutes * 60, rpoSeconds: dr.rpoMinutes * 60 },
    lockTtlSeconds: dr.lockTtlMinutes * 60,
    approvalRequired: dr.approvalRequired,
  };
}
