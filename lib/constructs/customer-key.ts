import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface CustomerKeyProps {
  /** Alias, with or without the `alias/` prefix, e.g. `aor/incident-response`. */
  readonly alias: string;
  readonly description: string;
}

/**
 * A symmetric customer-managed KMS key with yearly rotation, kept when the stack is deleted, that
 * CloudWatch Logs of this account and region may use, so one key can cover a stack's tables,
 * buckets, topics, Lambda environments and log groups.
 */
export class CustomerKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: CustomerKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      alias: props.alias,
      description: props.description,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts log groups with the key only when its key policy names the regional
    // service principal; the encryption-context condition keeps it to this account's log groups.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
  }
}

/**
 * What a principal needs to read and write data encrypted under a customer key (DynamoDB, S3, SNS
 * all call KMS on the caller's behalf): the exact actions, where grantEncryptDecrypt would also
 * grant the ReEncrypt and GenerateDataKey wildcards.
 */
export function grantDataKeyUse(key: kms.IKey, grantee: iam.IGrantable): void {
  key.grant(grantee, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey');
}
