import { AwsThrottledError, awsErrorMessage, hasAwsErrorName, isThrottling } from './aws-errors';

/**
 * The RDS failures AOR's RDS adapters recognise, named for Step Functions' Retry/Catch, and the one
 * translator both the operations adapter and the disaster recovery adapter use. RDS answers with
 * wire codes (`DBInstanceNotFound`) where the SDK throws exception names (`DBInstanceNotFoundFault`):
 * each list holds both.
 */

export class RdsThrottledError extends AwsThrottledError {
  override name = 'RdsThrottledError';
}

export class DatabaseNotFoundError extends Error {
  override name = 'DatabaseNotFoundError';
}

/** RDS refused the action in the database's current state (already rebooting, modifying, backing up, …). */
export class DatabaseStateConflictError extends Error {
  override name = 'DatabaseStateConflictError';
}

/** The snapshot a restore names is gone (deleted, or an automated one past its retention). */
export class SnapshotNotFoundError extends Error {
  override name = 'SnapshotNotFoundError';
}

/** The snapshot exists but cannot be restored yet, typically because its copy into this region still runs. */
export class SnapshotNotAvailableError extends Error {
  override name = 'SnapshotNotAvailableError';
}

/** RDS lacks the quota or capacity for the restore (instances, storage, or the instance class in the AZs). */
export class RestoreCapacityError extends Error {
  override name = 'RestoreCapacityError';
}

/** A delete's final snapshot name is taken: the run's final snapshot of that database exists already. */
export class FinalSnapshotExistsError extends Error {
  override name = 'FinalSnapshotExistsError';
}

const DATABASE_NOT_FOUND = [
  'DBInstanceNotFound',
  'DBInstanceNotFoundFault',
  'DBClusterNotFoundFault',
  'DBClusterNotFound',
];
const STATE_CONFLICT = [
  'InvalidDBInstanceState',
  'InvalidDBInstanceStateFault',
  'InvalidDBClusterStateFault',
  'InvalidDBClusterState',
];
const SNAPSHOT_NOT_FOUND = [
  'DBSnapshotNotFound',
  'DBSnapshotNotFoundFault',
  'DBClusterSnapshotNotFoundFault',
];
const SNAPSHOT_NOT_AVAILABLE = [
  'InvalidDBSnapshotState',
  'InvalidDBSnapshotStateFault',
  'InvalidDBClusterSnapshotStateFault',
];
const SNAPSHOT_EXISTS = [
  'DBSnapshotAlreadyExists',
  'DBSnapshotAlreadyExistsFault',
  'DBClusterSnapshotAlreadyExistsFault',
];
const NO_CAPACITY = [
  'InstanceQuotaExceeded',
  'InstanceQuotaExceededFault',
  'StorageQuotaExceeded',
  'StorageQuotaExceededFault',
  'InsufficientDBInstanceCapacity',
  'InsufficientDBInstanceCapacityFault',
  'DBClusterQuotaExceededFault',
  'InsufficientDBClusterCapacityFault',
  'InsufficientStorageClusterCapacity',
  'InsufficientStorageClusterCapacityFault',
];
/** A create that found its identifier taken: the caller decides whether that database is its own. */
export const ALREADY_EXISTS = [
  'DBInstanceAlreadyExists',
  'DBInstanceAlreadyExistsFault',
  'DBClusterAlreadyExistsFault',
];

const NAMED: readonly (readonly [
  readonly string[],
  new (message: string, options: ErrorOptions) => Error,
])[] = [
  [DATABASE_NOT_FOUND, DatabaseNotFoundError],
  [STATE_CONFLICT, DatabaseStateConflictError],
  [SNAPSHOT_NOT_FOUND, SnapshotNotFoundError],
  [SNAPSHOT_NOT_AVAILABLE, SnapshotNotAvailableError],
  [SNAPSHOT_EXISTS, FinalSnapshotExistsError],
  [NO_CAPACITY, RestoreCapacityError],
];

/** Names an RDS failure about `subject` (`DB instance phoenix-rooivalk-dr`); anything else is returned as it is. */
export function translateRdsError(subject: string): (error: unknown) => unknown {
  return (error) => {
    const options = { cause: error };
    const reason = `${subject}: ${awsErrorMessage(error)}`;
    if (isThrottling(error)) return new RdsThrottledError(`RDS throttled a request for ${reason}`, options);
    const named = NAMED.find(([names]) => hasAwsErrorName(error, names));
    return named ? new named[1](reason, options) : error;
  };
}
