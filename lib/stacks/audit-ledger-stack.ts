import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  LEDGER_DATA_KEY_ALIAS,
  LEDGER_STACK_OUTPUTS,
  type WorkflowWriter,
} from '../../lambdas/core/ledger/ledger-contract';
import type { AorConfig, SiteConfig } from '../config';
import { AccessLogBucket } from '../constructs/access-log-bucket';
import { AuditLedger } from '../constructs/audit-ledger';
import { CustomerKey } from '../constructs/customer-key';
import { TaskNetwork } from '../constructs/task-network';

export interface AuditLedgerStackProps extends StackProps {
  readonly config: AorConfig;
  /** The site network of the region this ledger serves (the stack's own region). */
  readonly network: SiteConfig['network'];
  /** The other region, whose ledger this one witnesses. */
  readonly peerRegion: string;
  /** The workflows that write this region's log: each writer's state machine name. */
  readonly workflowWriters: Partial<Record<WorkflowWriter, string>>;
}

/**
 * The verified audit ledger of one region: one per region, so that each region's workflows record
 * their actions where they run (a recovery run still records when the primary region is lost), and
 * each region's sequencer witnesses the other's log. It is its own stack so that its retention
 * (Object Lock, deletion protection) outlives redeploys of the workflows that write to it.
 */
export class AuditLedgerStack extends Stack {
  readonly encryptionKey: CustomerKey;
  readonly ledger: AuditLedger;

  constructor(scope: Construct, id: string, props: AuditLedgerStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.encryptionKey = new CustomerKey(this, 'LedgerDataKey', {
      alias: LEDGER_DATA_KEY_ALIAS,
      description: 'AOR audit ledger: entries table, functions, logs',
    });
    this.ledger = new AuditLedger(this, 'Ledger', {
      dataKey: this.encryptionKey.key,
      accessLogs: new AccessLogBucket(this, 'AccessLogs').bucket,
      network: new TaskNetwork(this, 'TaskNetwork', props.network),
      logRetention: config.logRetentionDays,
      checkpointRetention: Duration.days(config.ledgerRetentionDays),
      peerRegion: props.peerRegion,
      workflowWriters: props.workflowWriters,
    });
    // What `aor ledger export --stack`, operators and auditors read.
    const outputs: Record<keyof typeof LEDGER_STACK_OUTPUTS, string> = {
      tableName: this.ledger.table.tableName,
      signingKeyArn: this.ledger.signingKey.keyArn,
      archiveBucketName: this.ledger.checkpoints.bucketName,
      origin: this.ledger.origin,
      breakGlassRoleArn: this.ledger.breakGlass.role.roleArn,
      operatorPolicyArn: this.ledger.operatorPolicy.managedPolicyArn,
    };
    for (const [key, value] of Object.entries(outputs)) {
      new CfnOutput(this, LEDGER_STACK_OUTPUTS[key as keyof typeof LEDGER_STACK_OUTPUTS], { value });
    }
  }
}
