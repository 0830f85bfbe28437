import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import type { AorConfig } from '../config';
import { CustomerKey } from '../constructs/customer-key';
import { DisasterRecoveryWorkflow } from '../constructs/disaster-recovery-workflow';
import { DrTrafficFailover } from '../constructs/dr-traffic-failover';
import { NotificationChannels } from '../constructs/notification-channels';
import { SecureTable } from '../constructs/secure-table';
import { RecoveryOperatorAccess } from '../constructs/recovery-operator-access';
import { TaskNetwork } from '../constructs/task-network';
import { DR_STACK_OUTPUTS, RUNS_SUBJECT_INDEX } from '../../lambdas/core/recovery/recovery-contract';
import type { AuditLedgerStack } from './audit-ledger-stack';

export interface DisasterRecoveryStackProps extends StackProps {
  readonly config: AorConfig;
  /** The DR region's ledger stack: recovery runs record their steps in their own region. */
  readonly ledger: AuditLedgerStack;
}

/**
 * Disaster recovery, deployed in the DR region so that it still runs when the primary region is
 * the thing that failed. Its notification topics are its own for the same reason.
 */
export class DisasterRecoveryStack extends Stack {
  readonly encryptionKey: CustomerKey;
  readonly recoveryRuns: SecureTable;
  readonly channels: NotificationChannels;
  readonly network: TaskNetwork;
  readonly workflow: DisasterRecoveryWorkflow;
  /** The failover records, health check and alarm of `routing.mode = failover`. */
  readonly trafficFailover?: DrTrafficFailover;

  constructor(scope: Construct, id: string, props: DisasterRecoveryStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.encryptionKey = new CustomerKey(this, 'RecoveryDataKey', {
      alias: 'aor/disaster-recovery',
      description: 'AOR disaster recovery: run records and lock, topics, functions, logs',
    });
    this.recoveryRuns = new SecureTable(this, 'RecoveryRuns', {
      encryptionKey: this.encryptionKey.key,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      // DynamoDB removes a lock whose run died, after the lock's own expiry has freed it.
      timeToLiveAttribute: 'expiresAtEpoch',
    });
    // Where the workflow finds who started a run and who decided on its routing switch.
    this.recoveryRuns.table.addGlobalSecondaryIndex({
      indexName: RUNS_SUBJECT_INDEX.name,
      partitionKey: { name: RUNS_SUBJECT_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: RUNS_SUBJECT_INDEX.sortKey, type: dynamodb.AttributeType.STRING },
    });
    this.channels = new NotificationChannels(this, 'Channels', {
      encryptionKey: this.encryptionKey.key,
      channels: {
        'ops-team': config.notifications['ops-team'],
        'incident-commander': config.notifications['incident-commander'],
        leadership: config.notifications.leadership,
      },
    });
    this.network = new TaskNetwork(this, 'TaskNetwork', config.dr.network);
    this.workflow = new DisasterRecoveryWorkflow(this, 'Workflow', {
      config,
      encryptionKey: this.encryptionKey.key,
      runs: this.recoveryRuns.table,
      network: this.network,
      opsTopic: this.channels.topic('ops-team'),
      ledger: props.ledger.ledger.table,
    });
    // Deployed with the DR stack, so that sending traffic to the DR site needs only this region.
    if (config.routing.mode === 'failover') {
      this.trafficFailover = new DrTrafficFailover(this, 'TrafficFailover', {
        routing: config.routing,
        opsTopic: this.channels.topic('ops-team'),
        topicKey: this.encryptionKey.key,
      });
    }
    const operators = new RecoveryOperatorAccess(this, 'OperatorAccess', {
      runs: this.recoveryRuns.table,
      dataKey: this.encryptionKey.key,
      stateMachineArn: this.workflow.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, DR_STACK_OUTPUTS.stateMachineArn, {
      value: this.workflow.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, DR_STACK_OUTPUTS.runsTableName, { value: this.recoveryRuns.table.tableName });
    new CfnOutput(this, DR_STACK_OUTPUTS.operatorPolicyArn, { value: operators.policy.managedPolicyArn });
    this.addStackDependency(props.ledger, 'recovery steps are recorded in the audit ledger');
  }
}
