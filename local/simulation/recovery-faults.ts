import { InvalidRoutingChangeError } from '../../lambdas/adapters/aws/route53-traffic-routing';
import { PHOENIX_ROOIVALK_SITE } from './phoenix-rooivalk';
import { PHOENIX_ROOIVALK_DR_SITE } from './phoenix-rooivalk-dr';
import type { SimulatedPlatform } from './platform';
import { SimulatedServiceError } from './simulated-route53';

/**
 * How each step of the disaster recovery plausibly fails for real, as a change to the DR site's
 * world (or, where the failure is an API's refusal, a fault on the port call). What
 * `aor drill recovery --fail <step>` injects. Every failure lasts until removed.
 */

export const RECOVERY_STEPS = [
  'validate-site',
  'restore-database',
  'restore-blockchain-data',
  'restore-applications',
  'validate-recovery',
  'switch-routing',
] as const;
export type RecoveryStep = (typeof RECOVERY_STEPS)[number];

export interface StepFailureOptions {
  /** How `validate-site` fails: the storage class is gone (the default), or the cluster's API does not answer. */
  readonly siteFailure?: 'storage-class-missing' | 'cluster-unreachable';
  /**
   * How `restore-database` fails: a snapshot restore or a promotion ends in a status no waiting
   * cures (the default), or the standby replica has fallen behind its source, so that a promotion
   * succeeds but loses more data than the recovery point objective allows.
   */
  readonly databaseFailure?: 'database-fails' | 'lagging-replica';
}

export interface InjectedStepFailure {
  readonly step: RecoveryStep;
  /** What is broken, in a sentence for the drill's report. */
  readonly description: string;
  remove(): void;
}

/** What the blockchain node writes before exiting when the data it starts on is not its chain's. */
const FOREIGN_LEDGER_LINES = [
  'ERROR ledger: genesis block hash mismatch: /var/lib/phoenix/ledger does not belong to network phoenix-rooivalk',
  'panic: ledger: refusing to start on foreign chain data',
];
/** A lagging standby replays its source's changes at this fraction of their pace, from this long before the epoch. */
const LAGGING_REPLICA = { rate: 0.5, sinceMs: 30 * 60_000 } as const;
/**
 * The table a recovered database is short of, and by how many rows: a lost partition, more than the
 * table gains in a day, so that a promoted standby (checked for at least the manifest's rows) falls
 * short as a restored snapshot (checked for exactly them) does.
 */
export const SHORT_TABLE = { table: 'sensor_tracks', rows: 1_500_000 } as const;

export function injectRecoveryStepFailure(
  platform: Pick<
    SimulatedPlatform,
    'layout' | 'epoch' | 'kubernetes' | 'rdsRecovery' | 's3' | 'injectFault' | 'setClusterReachable'
  >,
  step: RecoveryStep,
  options: StepFailureOptions = {},
): InjectedStepFailure {
  const { partition, account, blockchainWorkload } = platform.layout;
  const failure = (description: string, remove: () => void): InjectedStepFailure => ({
    step,
    description,
    remove,
  });
  switch (step) {
    case 'validate-site': {
      if (options.siteFailure === 'cluster-unreachable') {
        platform.setClusterReachable(false);
        return failure("the DR cluster's API endpoint does not answer", () =>
          platform.setClusterReachable(true),
        );
      }
      const name = PHOENIX_ROOIVALK_SITE.storageClass;
      platform.kubernetes.delete(
        { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', name },
        platform.epoch,
      );
      return failure(`storage class ${name} is missing from the DR cluster`, () =>
        platform.kubernetes.addStorageClass(name),
      );
    }
    case 'restore-database': {
      if (options.databaseFailure === 'lagging-replica') {
        const replica = PHOENIX_ROOIVALK_DR_SITE.standbyReplica;
        const since = platform.epoch - LAGGING_REPLICA.sinceMs;
        const behindAtEpoch = Math.round(((1 - LAGGING_REPLICA.rate) * LAGGING_REPLICA.sinceMs) / 60_000);
        const restore = platform.rdsRecovery.slowReplica(replica, since, LAGGING_REPLICA.rate);
        return failure(
          `standby ${replica.identifier} replays its source's changes at half their pace: ${behindAtEpoch} minutes behind at the start, and falling further behind`,
          restore,
        );
      }
      platform.rdsRecovery.failingRestoreStatus = 'incompatible-restore';
      // A promotion reboots the replica; with parameters it cannot start on, it stays down.
      platform.rdsRecovery.failingPromotionStatus = 'incompatible-parameters';
      return failure(
        'restored databases end in incompatible-restore, and a promoted standby in incompatible-parameters',
        () => {
          platform.rdsRecovery.failingRestoreStatus = null;
          platform.rdsRecovery.failingPromotionStatus = null;
        },
      );
    }
    case 'restore-blockchain-data': {
      const role = PHOENIX_ROOIVALK_DR_SITE.restoreRole;
      platform.s3.denyPodAccess('s3://', (uri) => {
        const bucket = uri.slice('s3://'.length).split('/')[0] ?? '';
        return `User: arn:${partition}:sts::${account}:assumed-role/${role}/botocore-session-1762091000 is not authorized to perform: s3:ListBucket on resource: "arn:${partition}:s3:::${bucket}" because no identity-based policy allows the s3:ListBucket action`;
      });
      return failure(`the restore Job's role ${role} may not read S3`, () =>
        platform.s3.allowPodAccess('s3://'),
      );
    }
    case 'restore-applications':
      platform.kubernetes.crashingWorkloads.set(blockchainWorkload.name, FOREIGN_LEDGER_LINES);
      return failure(
        `every new ${blockchainWorkload.name} pod crash-loops, so its rollout never completes`,
        () => platform.kubernetes.crashingWorkloads.delete(blockchainWorkload.name),
      );
    case 'validate-recovery':
      platform.rdsRecovery.missingRows.set(SHORT_TABLE.table, SHORT_TABLE.rows);
      return failure(
        `recovered databases lack ${SHORT_TABLE.rows} rows of ${SHORT_TABLE.table} (a lost partition) that the integrity manifest counts`,
        () => platform.rdsRecovery.missingRows.delete(SHORT_TABLE.table),
      );
    case 'switch-routing': {
      // Refused before anything moved: the signal's PutMetricData (an SCP, or a namespace the task's
      // policy does not name), or, in upsert mode, Route 53's change batch.
      const fault = platform.injectFault({
        operation: 'sendTrafficToDrSite',
        error: ({ mode, hostedZoneId, recordName }) => {
          if (mode === 'failover') {
            const role = PHOENIX_ROOIVALK_DR_SITE.taskRole;
            return new SimulatedServiceError(
              'AccessDenied',
              `User: arn:${partition}:sts::${account}:assumed-role/${role}/${role} is not authorized to perform: cloudwatch:PutMetricData with an explicit deny in a service control policy`,
            );
          }
          const name = recordName.toLowerCase().replace(/\.$/, '');
          const zone = name.split('.').slice(1).join('.');
          return new InvalidRoutingChangeError(
            `${recordName} in hosted zone ${hostedZoneId}: [RRSet of type CNAME with DNS name ${name}. is not permitted because a conflicting RRSet of type A with the same DNS name already exists in zone ${zone}.]`,
          );
        },
      });
      return failure(
        'the traffic switch is refused: CloudWatch denies the failover signal (upsert mode: Route 53 rejects the change batch)',
        () => fault.remove(),
      );
    }
  }
}
