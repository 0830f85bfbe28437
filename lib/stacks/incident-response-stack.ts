import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import type { AorConfig } from '../config';
import { AccessLogBucket } from '../constructs/access-log-bucket';
import { CustomerKey } from '../constructs/customer-key';
import { IncidentResponseWorkflow } from '../constructs/incident-response-workflow';
import { NotificationChannels } from '../constructs/notification-channels';
import { SecureBucket } from '../constructs/secure-bucket';
import { SecureTable } from '../constructs/secure-table';
import { TaskNetwork } from '../constructs/task-network';
import type { AuditLedgerStack } from './audit-ledger-stack';

export interface IncidentResponseStackProps extends StackProps {
  readonly config: AorConfig;
  /** The primary region's ledger stack. */
  readonly ledger: AuditLedgerStack;
}

/**
 * Incident response in the primary region: CloudWatch alarms open incidents that are classified
 * to a playbook, notified, remediated and escalated.
 */
export class IncidentResponseStack extends Stack {
  readonly encryptionKey: CustomerKey;
  readonly incidents: SecureTable;
  readonly evidence: SecureBucket;
  readonly channels: NotificationChannels;
  readonly network: TaskNetwork;
  readonly workflow: IncidentResponseWorkflow;

  constructor(scope: Construct, id: string, props: IncidentResponseStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.encryptionKey = new CustomerKey(this, 'IncidentDataKey', {
      alias: 'aor/incident-response',
      description: 'AOR incident response: incidents table, evidence bucket, topics, functions, logs',
    });
    const accessLogs = new AccessLogBucket(this, 'AccessLogs');
    this.incidents = new SecureTable(this, 'Incidents', {
      encryptionKey: this.encryptionKey.key,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    });
    this.evidence = new SecureBucket(this, 'ForensicEvidence', {
      encryptionKey: this.encryptionKey.key,
      accessLogs: accessLogs.bucket,
      accessLogPrefix: 'forensic-evidence/',
      noReplicationReason:
        'Forensic evidence stays in the region it was captured in; its SHA-256 is in the audit ledger, which proves it unaltered.',
    });
    this.channels = new NotificationChannels(this, 'Channels', {
      encryptionKey: this.encryptionKey.key,
      channels: config.notifications,
    });
    this.network = new TaskNetwork(this, 'TaskNetwork', config.primary.network);
    this.workflow = new IncidentResponseWorkflow(this, 'Workflow', {
      config,
      encryptionKey: this.encryptionKey.key,
      incidents: this.incidents.table,
      evidence: this.evidence.bucket,
      channels: this.channels,
      network: this.network,
      ledger: props.ledger.ledger.table,
    });
    new CfnOutput(this, 'IncidentsTableName', { value: this.incidents.table.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    this.addStackDependency(props.ledger, 'incident actions are recorded in the audit ledger');
  }
}
