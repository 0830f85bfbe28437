import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { buildIncidentResponseDefinition } from '../../state-machines/incident-response/definition';
import { WORKFLOW_WRITERS } from '../../lambdas/core/ledger/ledger-contract';
import { INCIDENT_STATE_MACHINE_NAME } from '../../lambdas/shared/state-machine-names';
import { CLUSTER_GROUPS, clusterGroupAccess } from '../cluster-access';
import { acknowledgeFindings } from '../compliance';
import type { AorConfig } from '../config';
import { AorFunction } from './aor-function';
import { AorStateMachine } from './aor-state-machine';
import { grantLedgerAppend, ledgerWriterEnvironment } from './audit-ledger';
import { grantDataKeyUse } from './customer-key';
import type { NotificationChannels } from './notification-channels';
import type { TaskNetwork } from './task-network';

// Shared with the ledger's sequencer, which accepts this workflow's records only from its executions.
export { INCIDENT_STATE_MACHINE_NAME };

export interface IncidentResponseWorkflowProps {
  readonly config: AorConfig;
  readonly encryptionKey: kms.IKey;
  readonly incidents: dynamodb.ITable;
  readonly evidence: s3.IBucket;
  readonly channels: NotificationChannels;
  readonly network: TaskNetwork;
  /** The primary region's ledger table: the incident tasks record their actions there. */
  readonly ledger: dynamodb.ITable;
}

/**
 * The incident response state machine, its four Lambda tasks with exactly the access each needs,
 * the EventBridge rule that starts it on CloudWatch alarm state changes, and the EKS access entry
 * that lets the action task act in the platform's namespace.
 */
export class IncidentResponseWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly functions: Record<'intake' | 'notify' | 'action' | 'status', AorFunction>;

  constructor(scope: Construct, id: string, props: IncidentResponseWorkflowProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    const topicArns = Object.fromEntries(
      [...props.channels.topics].map(([channel, topic]) => [channel, topic.topicArn]),
    );
    const common = {
      serviceName: 'incident-response',
      encryptionKey: props.encryptionKey,
      network: props.network,
      logRetention: config.logRetentionDays,
      environment: {
        INCIDENTS_TABLE_NAME: props.incidents.tableName,
        ...ledgerWriterEnvironment(props.ledger, WORKFLOW_WRITERS.incidentResponse),
      },
    };
    const fn = (
      name: string,
      description: string,
      extra: Partial<ConstructorParameters<typeof AorFunction>[2]> = {},
    ) =>
      new AorFunction(this, name, {
        ...common,
        entry: `lambdas/handlers/incident/${name.toLowerCase()}.ts`,
        description,
        ...extra,
        environment: { ...common.environment, ...extra.environment },
      });
    this.functions = {
      intake: fn('Intake', 'Classifies an alarm and opens, repeats or resolves its incident'),
      notify: fn('Notify', 'Notifies playbook channels and escalates unacknowledged incidents', {
        environment: {
          CHANNEL_TOPIC_ARNS: stack.toJsonString(topicArns),
          // AOR deploys only to GovCloud regions (the configuration enforces it).
          CONSOLE_URL: 'https://console.amazonaws-us-gov.com',
        },
      }),
      action: fn('Action', 'Runs one automated playbook action on EKS, RDS, CloudWatch or SNS', {
        timeout: Duration.minutes(14),
        memorySize: 1024,
        environment: {
          EKS_CLUSTER_NAME: config.primary.eksClusterName,
          EVIDENCE_BUCKET: props.evidence.bucketName,
          SECURITY_TOPIC_ARN: props.channels.topic('security-team').topicArn,
          ACTION_SETTINGS: JSON.stringify(actionSettings(config)),
        },
      }),
      status: fn('Status', 'Moves an incident along its lifecycle for the workflow'),
    };

    for (const f of Object.values(this.functions)) {
      // The table's key is granted once below with exact actions; grantReadWriteData would add wildcards.
      props.incidents.grant(
        f.role,
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'dynamodb:Scan',
      );
      grantDataKeyUse(props.encryptionKey, f.role);
      grantLedgerAppend(f.role, props.ledger, WORKFLOW_WRITERS.incidentResponse);
    }
    this.grantIntake(this.functions.intake, config);
    for (const topic of props.channels.topics.values()) grantPublish(topic, this.functions.notify);
    this.grantActions(this.functions.action, props);

    this.stateMachine = new AorStateMachine(this, 'Workflow', {
      stateMachineName: INCIDENT_STATE_MACHINE_NAME,
      definition: buildIncidentResponseDefinition(this, {
        intake: this.functions.intake.function,
        notify: this.functions.notify.function,
        action: this.functions.action.function,
        status: this.functions.status.function,
      }),
      encryptionKey: props.encryptionKey,
      logRetention: config.logRetentionDays,
      // Escalation waits for people: two tiers of the slowest playbook fit many times over.
      timeout: Duration.hours(24),
      functions: Object.values(this.functions),
    }).stateMachine;
    const deadLetters = new sqs.Queue(this, 'TriggerDeadLetters', {
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeFindings(deadLetters, {
      'AwsSolutions-SQS3': 'This queue is itself the dead-letter queue of the alarm trigger rule.',
    });
    new events.Rule(this, 'AlarmStateChange', {
      description:
        'Start incident response when an AOR-managed CloudWatch alarm changes to ALARM or back to OK',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: {
          alarmName: [{ prefix: config.incidentResponse.alarmNamePrefix }],
          state: { value: ['ALARM', 'OK'] },
        },
      },
      targets: [
        new targets.SfnStateMachine(this.stateMachine, {
          deadLetterQueue: deadLetters,
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });
  }

  private grantIntake(intake: AorFunction, config: AorConfig): void {
    acknowledgeFindings(intake, {
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudwatch:${Stack.of(this).region}:${Stack.of(this).account}:alarm:${config.incidentResponse.alarmNamePrefix}*]`]:
        'Reading tags is limited to the alarms whose names carry the configured prefix: exactly the alarms that can start this workflow.',
    });
    intake.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:ListTagsForResource'],
        resources: [
          Stack.of(this).formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: `${config.incidentResponse.alarmNamePrefix}*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
  }

  private grantActions(action: AorFunction, props: IncidentResponseWorkflowProps): void {
    const { config } = props;
    const stack = Stack.of(this);
    const clusterArn = stack.formatArn({
      service: 'eks',
      resource: 'cluster',
      resourceName: config.primary.eksClusterName,
    });
    action.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [clusterArn] }),
    );
    const database = config.primary.database;
    const databaseArn = stack.formatArn({
      service: 'rds',
      resource: database.kind === 'instance' ? 'db' : 'cluster',
      resourceName: database.identifier,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    action.role.addToPolicy(
      new iam.PolicyStatement({
        actions:
          database.kind === 'instance'
            ? ['rds:DescribeDBInstances', 'rds:RebootDBInstance']
            : ['rds:DescribeDBClusters', 'rds:FailoverDBCluster'],
        resources: [databaseArn],
      }),
    );
    action.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
    );
    grantPublish(props.channels.topic('security-team'), action);
    action.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [props.evidence.arnForObjects('incidents/*')],
      }),
    );
    acknowledgeFindings(action, {
      'AwsSolutions-IAM5[Resource::*]':
        'cloudwatch:GetMetricData has no resource-level permissions; X-Ray and VPC network-interface actions likewise.',
      [`AwsSolutions-IAM5[Resource::<${stack.getLogicalId(props.evidence.node.defaultChild as s3.CfnBucket)}.Arn>/incidents/*]`]:
        'Evidence objects are named per incident and capture time under incidents/; the prefix is the narrowest scope for new objects, and puts are write-once (If-None-Match).',
    });
    // The action task acts inside the cluster as itself (the cluster must use the EKS access-entry
    // API): one Kubernetes group, whose Role in the platform namespace (deploy/rbac/incident-actions.yaml)
    // grants exactly the verbs its actions use: no Secrets, no exec, no other workload.
    clusterGroupAccess(this, 'ActionClusterAccess', {
      clusterName: config.primary.eksClusterName,
      role: action.role,
      group: CLUSTER_GROUPS.incidentActions,
    });
  }
}

/** The ActionSettings of the action task, from the deployment configuration. */
export function actionSettings(config: AorConfig) {
  const ir = config.incidentResponse;
  return {
    clusterName: config.primary.eksClusterName,
    namespace: config.kubernetesNamespace,
    blockchainWorkload: ir.blockchainWorkload,
    peerService: ir.peerService,
    minReadyPeers: ir.minReadyPeers,
    rolloutDeadlineSeconds: ir.rolloutDeadlineSeconds,
    scaleTarget: ir.scaleTarget,
    connectionPooler: ir.connectionPooler,
    database: config.primary.database,
    consensusMetric: ir.consensusMetric,
    analysisWindowMinutes: ir.analysisWindowMinutes,
    leakSlopePerHour: ir.leakSlopePerHour,
    forensicLogLines: ir.forensicLogLines,
  };
}

/** sns:Publish on one topic; the topic's key is granted with exact actions by the caller. */
function grantPublish(topic: sns.ITopic, fn: AorFunction): void {
  fn.role.addToPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }));
}
