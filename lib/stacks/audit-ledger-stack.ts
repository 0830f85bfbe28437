import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AorConfig } from '../config';
import { AccessLogBucket } from '../constructs/access-log-bucket';
import { AuditLedger, LEDGER_ORIGIN } from '../constructs/audit-ledger';
import { CustomerKey } from '../constructs/customer-key';
import { TaskNetwork } from '../constructs/task-network';

export interface AuditLedgerStackProps extends StackProps {
  readonly config: AorConfig;
}

/**
 * The verified audit ledger of every operational action, in the primary region. It is its own
 * stack so that its retention (Object Lock, deletion protection) outlives redeploys of the
 * workflows that write to it.
 */
export class AuditLedgerStack extends Stack {
  readonly encryptionKey: CustomerKey;
  readonly ledger: AuditLedger;

  constructor(scope: Construct, id: string, props: AuditLedgerStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.encryptionKey = new CustomerKey(this, 'LedgerDataKey', {
      alias: 'aor/audit-ledger',
      description: 'AOR audit ledger: entries table, checkpoint bucket, functions, logs',
    });
    this.ledger = new AuditLedger(this, 'Ledger', {
      encryptionKey: this.encryptionKey.key,
      accessLogs: new AccessLogBucket(this, 'AccessLogs').bucket,
      network: new TaskNetwork(this, 'TaskNetwork', config.primary.network),
      logRetention: config.logRetentionDays,
      checkpointRetention: Duration.days(config.ledgerRetentionDays),
    });
    // What `aor ledger export --stack` and auditors read.
    new CfnOutput(this, 'LedgerTableName', { value: this.ledger.table.tableName });
    new CfnOutput(this, 'SigningKeyArn', { value: this.ledger.signingKey.keyArn });
    new CfnOutput(this, 'CheckpointBucketName', { value: this.ledger.checkpoints.bucketName });
    new CfnOutput(this, 'LedgerOrigin', { value: LEDGER_ORIGIN });
    new CfnOutput(this, 'AppendFunctionArn', { value: this.ledger.appendFunction.function.functionArn });
  }
}
