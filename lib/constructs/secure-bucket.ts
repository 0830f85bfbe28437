import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeFindings } from '../compliance';

export interface SecureBucketProps {
  /**
   * The customer key of SSE-KMS. Without one the bucket uses SSE-S3, which the caller acknowledges
   * (NIST.800.53.R5-S3DefaultEncryptionKMS) with its reason.
   */
  readonly encryptionKey?: kms.IKey;
  readonly accessLogs: s3.IBucket;
  /** Prefix of this bucket's entries in the access log bucket. */
  readonly accessLogPrefix: string;
  /** WORM retention: every object version is locked in compliance mode for this long. */
  readonly objectLockRetention?: Duration;
  /** Why this bucket is not replicated to another region (NIST CP-9/CP-10 asks for replication). */
  readonly noReplicationReason: string;
}

/**
 * An S3 bucket as every AOR data store should be: SSE-KMS with a customer key (with S3 Bucket Keys
 * to keep KMS calls per object low) unless it must outlive any key, public access blocked, TLS
 * only, versioned, access-logged and retained when the stack goes. With `objectLockRetention` it
 * is a write-once store.
 */
export class SecureBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...(props.encryptionKey
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: props.accessLogPrefix,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.objectLockRetention && {
        objectLockEnabled: true,
        objectLockDefaultRetention: s3.ObjectLockRetention.compliance(props.objectLockRetention),
      }),
    });
    acknowledgeFindings(this.bucket, {
      'NIST.800.53.R5-S3BucketReplicationEnabled': props.noReplicationReason,
    });
  }
}
