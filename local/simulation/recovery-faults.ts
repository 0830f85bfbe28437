import { InvalidRoutingChangeError } from '../../lambdas/adapters/aws/route53-traffic-routing';
import { PHOENIX_ROOIVALK_SITE } from './phoenix-rooivalk';
import { PHOENIX_ROOIVALK_DR_SITE } from './phoenix-rooivalk-dr';
import type { SimulatedPlatform } from './platform';

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
/** The table a bad snapshot is short of, and by how many rows. */
const SHORT_TABLE = { table: 'sensor_tracks', rows: 1_184 } as const;

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
    case 'restore-database':
      platform.rdsRecovery.failingRestoreStatus = 'incompatible-restore';
      return failure('restored databases end in incompatible-restore', () => {
        platform.rdsRecovery.failingRestoreStatus = null;
      });
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
        `restored databases lack ${SHORT_TABLE.rows} rows of ${SHORT_TABLE.table} that the integrity manifest counts`,
        () => platform.rdsRecovery.missingRows.delete(SHORT_TABLE.table),
      );
    case 'switch-routing': {
      const fault = platform.injectFault({
        operation: 'switchRecord',
        error: ({ hostedZoneId, recordName }) => {
          const name = recordName.toLowerCase().replace(/\.$/, '');
          const zone = name.split('.').slice(1).join('.');
          return new InvalidRoutingChangeError(
            `${recordName} in hosted zone ${hostedZoneId}: [RRSet of type CNAME with DNS name ${name}. is not permitted because a conflicting RRSet of type A with the same DNS name already exists in zone ${zone}.]`,
          );
        },
      });
      return failure('Route 53 rejects the record change (InvalidChangeBatch)', () => fault.remove());
    }
  }
}
