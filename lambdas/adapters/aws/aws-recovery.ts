import { Resolver } from 'node:dns/promises';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ClusterOperations } from '../../core/operations/cluster';
import { RECOVERY_RUN_TAG, type RecoverySettings } from '../../core/recovery/recovery';
import type { RecoveryPorts } from '../../core/recovery/recovery-service';
import { KubernetesClusterOperations } from '../kubernetes/cluster-operations';
import { EksConnectionFactory } from '../kubernetes/eks-auth';
import { awsLedgerAppender } from './aws-ledger';
import { DynamoDbRecoveryRunStore } from './dynamodb-recovery-run-store';
import { requiredEnv } from './environment';
import { RdsDatabaseRecovery } from './rds-database-recovery';
import { Route53TrafficRouting } from './route53-traffic-routing';
import { S3BackupCatalog } from './s3-backup-catalog';
import { SnsNotifier } from './sns-notifier';
import { StsSiteIdentity } from './sts-site-identity';

export function recoverySettingsFromEnvironment(): RecoverySettings {
  return JSON.parse(requiredEnv('RECOVERY_SETTINGS')) as RecoverySettings;
}

/** The DR step's adapters: everything in the DR region (this function's), the ledger in the primary. */
export async function awsRecoveryPorts(): Promise<RecoveryPorts> {
  const region = requiredEnv('AWS_REGION');
  const eks = new EksConnectionFactory({
    region,
    useFipsEndpoint: process.env.AWS_USE_FIPS_ENDPOINT === 'true',
  });
  const cluster: ClusterOperations = new KubernetesClusterOperations(
    await eks.connection(requiredEnv('EKS_CLUSTER_NAME')),
  );
  return {
    cluster,
    // CloudWatch in this region holds the standby replica's ReplicaLag.
    recovery: new RdsDatabaseRecovery(new RDSClient({}), new CloudWatchClient({}), {
      managedTagKey: RECOVERY_RUN_TAG,
    }),
    backups: new S3BackupCatalog(new S3Client({})),
    routing: new Route53TrafficRouting({
      // The failover signal's alarm is in the DR region: this function's.
      cloudWatch: new CloudWatchClient({}),
      // Route 53 is a global service; in GovCloud its endpoint is signed for us-gov-west-1.
      route53: new Route53Client({ region: 'us-gov-west-1' }),
      elb: new ElasticLoadBalancingV2Client({}),
      // The system's name servers: in a VPC, the VPC's resolver, which answers its private hosted zones.
      resolver: new Resolver(),
      clock: () => new Date(),
    }),
    identity: new StsSiteIdentity(new STSClient({})),
    runs: new DynamoDbRecoveryRunStore(
      DynamoDBDocumentClient.from(new DynamoDBClient({}), {
        marshallOptions: { removeUndefinedValues: true },
      }),
      requiredEnv('RUNS_TABLE_NAME'),
    ),
    trail: awsLedgerAppender(),
    notifier: new SnsNotifier(new SNSClient({}), { 'ops-team': requiredEnv('OPS_TOPIC_ARN') }),
    clock: () => new Date(),
  };
}
