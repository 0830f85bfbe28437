import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledgeFindings } from '../compliance';

export interface SecureTableProps {
  /** A fixed physical name, for tables other regions' stacks must find without a reference. */
  readonly tableName?: string;
  readonly encryptionKey: kms.IKey;
  readonly partitionKey: dynamodb.Attribute;
  readonly sortKey?: dynamodb.Attribute;
  /** Attribute holding an epoch-seconds expiry, for tables whose items age out (locks, dedupe keys). */
  readonly timeToLiveAttribute?: string;
}

/**
 * A DynamoDB table as every AOR data store should be: on-demand, encrypted with a customer key,
 * point-in-time recovery on, deletion protection on, retained when the stack goes.
 */
export class SecureTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: SecureTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: props.partitionKey,
      sortKey: props.sortKey,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: props.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeFindings(this.table, {
      'NIST.800.53.R5-DynamoDBInBackupPlan':
        'Point-in-time recovery gives continuous backups with 35 days of restore points; the organisation-wide AWS Backup policy, not this app, owns backup plans.',
    });
  }
}
