import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AorConfig } from '../config';
import { AccessLogBucket } from '../constructs/access-log-bucket';
import { CustomerKey } from '../constructs/customer-key';

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
  readonly accessLogs: AccessLogBucket;

  constructor(scope: Construct, id: string, props: AuditLedgerStackProps) {
    super(scope, id, props);
    this.encryptionKey = new CustomerKey(this, 'LedgerDataKey', {
      alias: 'aor/audit-ledger',
      description: 'AOR audit ledger: entries table, checkpoint bucket, logs',
    });
    this.accessLogs = new AccessLogBucket(this, 'AccessLogs');
  }
}
