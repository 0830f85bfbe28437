import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { DatabaseRef } from '../../core/operations/ports';
import type {
  DatabaseRecovery,
  DatabaseSnapshot,
  Deletion,
  Promotion,
  Protection,
  RehearsalRequest,
  ReplicaStatus,
  RestoreRequest,
  RestoreStatus,
} from '../../core/recovery/ports';
import { RdsDatabases } from './rds-databases';
import { RdsRecoveredDatabases } from './rds-recovered-databases';
import { RdsSnapshotRestore } from './rds-snapshot-restore';
import { RdsStandbyPromotion } from './rds-standby-promotion';

export interface RdsDatabaseRecoveryOptions {
  /** Tag key whose value names the recovery run that created a database, e.g. `aor:recovery-run`. */
  readonly managedTagKey: string;
  readonly now?: () => Date;
}

/**
 * `DatabaseRecovery` on RDS in the DR region, one job per module: restoring snapshots
 * (rds-snapshot-restore), promoting the warm standby and rehearsing that (rds-standby-promotion),
 * and deleting or keeping what a run brought up (rds-recovered-databases), all over one reading of
 * the site's databases (rds-databases) and one RDS error translator (rds-errors).
 */
export class RdsDatabaseRecovery implements DatabaseRecovery {
  private readonly databases: RdsDatabases;
  private readonly snapshots: RdsSnapshotRestore;
  private readonly standby: RdsStandbyPromotion;
  private readonly recovered: RdsRecoveredDatabases;

  constructor(rds: RDSClient, cloudWatch: CloudWatchClient, options: RdsDatabaseRecoveryOptions) {
    this.databases = new RdsDatabases(rds, options.managedTagKey);
    this.snapshots = new RdsSnapshotRestore(rds, this.databases);
    this.standby = new RdsStandbyPromotion(
      rds,
      cloudWatch,
      this.databases,
      options.now ?? (() => new Date()),
    );
    this.recovered = new RdsRecoveredDatabases(rds, this.databases);
  }

  findSnapshot(query: { sourceDatabase: DatabaseRef; day?: string }): Promise<DatabaseSnapshot | undefined> {
    return this.snapshots.findSnapshot(query);
  }

  startRestore(request: RestoreRequest): Promise<RestoreStatus> {
    return this.snapshots.startRestore(request);
  }

  restoreStatus(database: DatabaseRef): Promise<RestoreStatus | undefined> {
    return this.databases.status(database);
  }

  replicaStatus(replica: DatabaseRef): Promise<ReplicaStatus | undefined> {
    return this.standby.replicaStatus(replica);
  }

  promoteReplica(replica: DatabaseRef, runId: string): Promise<Promotion> {
    return this.standby.promoteReplica(replica, runId);
  }

  startRehearsal(request: RehearsalRequest): Promise<RestoreStatus> {
    return this.standby.startRehearsal(request);
  }

  deleteRestored(target: DatabaseRef, runId: string): Promise<Deletion> {
    return this.recovered.deleteRestored(target, runId);
  }

  protectRecovered(target: DatabaseRef, runId: string): Promise<Protection> {
    return this.recovered.protectRecovered(target, runId);
  }
}
