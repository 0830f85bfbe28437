import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeFindings } from '../compliance';

/**
 * The bucket that receives the S3 server access logs of a stack's buckets. It is the end of the
 * logging chain, so it does not log to itself, and it uses SSE-S3 because S3 log delivery cannot
 * write to a bucket whose default encryption is SSE-KMS.
 */
export class AccessLogBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(90) }],
    });
    acknowledgeFindings(this.bucket, {
      'AwsSolutions-S1':
        'This bucket is the destination of server access logs; logging it to itself would loop.',
      'NIST.800.53.R5-S3BucketLoggingEnabled':
        'This bucket is the destination of server access logs; logging it to itself would loop.',
      'NIST.800.53.R5-S3DefaultEncryptionKMS':
        'S3 server access log delivery supports only SSE-S3 on the destination bucket, not SSE-KMS.',
      'NIST.800.53.R5-S3BucketReplicationEnabled':
        'Access logs are operational telemetry of this region; the audit record itself is the ledger.',
    });
  }
}
