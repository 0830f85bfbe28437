/**
 * Ports of the disaster recovery workflow, beside `ClusterOperations` (the DR site's cluster) and
 * `DatabaseRef` (operations/ports). Each has an AWS adapter and a simulated one for drills.
 */
import type { DatabaseRef } from '../operations/ports';

export interface DatabaseSnapshot {
  readonly identifier: string;
  readonly arn: string;
  /** When the snapshot was taken (ISO 8601): the recovery point of a restore from it. */
  readonly createdAt: string;
  readonly sourceDatabase: string;
  readonly status: string;
}

export interface RestoreRequest {
  readonly snapshot: DatabaseSnapshot;
  /** The instance (or Aurora cluster) to create in the DR region. */
  readonly target: DatabaseRef;
  readonly instanceClass: string;
  readonly subnetGroupName: string;
  readonly securityGroupIds: readonly string[];
  /** Tags that mark what a recovery run created, so compensation deletes only its own. */
  readonly tags: Readonly<Record<string, string>>;
}

export interface RestoreStatus {
  readonly identifier: string;
  /** RDS status: `creating`, `backing-up`, `available`, `failed`, `incompatible-restore`, … */
  readonly status: string;
  readonly available: boolean;
  /** A status no waiting will cure. */
  readonly failed: boolean;
  readonly endpoint?: string;
}

export interface DatabaseRecovery {
  /** The newest available snapshot of `sourceDatabase`, or the newest one taken on `day` (YYYY-MM-DD, UTC). */
  findSnapshot(query: { sourceDatabase: DatabaseRef; day?: string }): Promise<DatabaseSnapshot | undefined>;
  startRestore(request: RestoreRequest): Promise<RestoreStatus>;
  restoreStatus(target: DatabaseRef): Promise<RestoreStatus | undefined>;
  /** Deletes a database this run restored (no final snapshot: it is a copy); absent is fine. */
  deleteRestored(target: DatabaseRef): Promise<{ deleted: boolean }>;
}

export interface BackupLocation {
  readonly bucket: string;
  /** `blockchain/<YYYY-MM-DD>/` */
  readonly prefix: string;
  readonly objects: number;
  readonly bytes: number;
  /** The newest object's last-modified time: the blockchain data's recovery point. */
  readonly takenAt: string;
}

export interface BackupCatalog {
  /** The blockchain backup of `day`, or the newest day's when `day` is unset. */
  findBlockchainBackup(query: { bucket: string; day?: string }): Promise<BackupLocation | undefined>;
  /** The integrity manifest of a backup day (`manifests/<day>/integrity.json`), parsed. */
  readIntegrityManifest(query: { bucket: string; day: string }): Promise<IntegrityManifest | undefined>;
}

/** What the backup says the data holds: row counts and/or checksums per table. */
export interface IntegrityManifest {
  readonly day: string;
  readonly tables: Readonly<Record<string, { readonly rows?: number; readonly checksum?: string }>>;
}

export interface RoutingChange {
  readonly changeId: string;
  /** `PENDING` until Route 53 has propagated it to all its servers, then `INSYNC`. */
  readonly status: 'PENDING' | 'INSYNC';
}

export interface TrafficRouting {
  /** UPSERTs the record to point at the DR target (alias or CNAME, by configuration). */
  switchRecord(request: {
    hostedZoneId: string;
    recordName: string;
    target: string;
    comment: string;
  }): Promise<RoutingChange>;
  changeStatus(changeId: string): Promise<RoutingChange>;
  /** Sets the target group's health check path (the seed's `modify-target-group`). */
  setHealthCheckPath(request: { targetGroupArn: string; path: string }): Promise<void>;
}

export interface SiteIdentity {
  /** STS GetCallerIdentity in the DR region: proves the region answers and who acts. */
  whoAmI(): Promise<{ account: string; arn: string }>;
}
