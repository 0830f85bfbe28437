/**
 * What a recovery run leaves in the DR site, and its removal. Nothing is removed that the run did
 * not create: the database only when, read at the moment of deleting, its run tag is this run's
 * (and after a final snapshot); each Kubernetes object only when its run label is. Anything else
 * is kept and named, with why. A dry run always removes what it made; a real run that stops keeps
 * what it restored for people to decide on, until `aor dr abandon`.
 */
import type { ClusterOperations, ObjectRef } from '../operations/cluster';
import type { DatabaseRecovery } from './ports';
import { createdObjects, type RecoveryPlan, type RecoverySettings } from './recovery';
import type { SiteInventory } from './recovery-notices';

export interface CleanupRun {
  readonly runId: string;
  readonly plan: RecoveryPlan;
}

export interface SiteRemoval extends SiteInventory {
  readonly databaseDeleted: boolean;
  readonly finalSnapshot: string | null;
  readonly objectsDeleted: number;
}

export class SiteCleanup {
  constructor(
    private readonly ports: { readonly recovery: DatabaseRecovery; readonly cluster: ClusterOperations },
    private readonly settings: Pick<RecoverySettings, 'manifests'>,
  ) {}

  /** Removes what the run created, and only that; says what it kept and why. */
  async remove(run: CleanupRun): Promise<SiteRemoval> {
    const notes: string[] = [];
    let databaseDeleted = false;
    let finalSnapshot: string | null = null;
    if (run.plan.restoresData) {
      const database = await this.ports.recovery.deleteRestored(run.plan.database, run.runId);
      databaseDeleted = database.deleted;
      finalSnapshot = database.finalSnapshot ?? null;
      if (database.kept) notes.push(`Kept database ${run.plan.database.identifier}: ${database.kept}`);
    }
    const objects = await this.ports.cluster.deleteObjects(createdObjects(run.plan, this.settings), {
      runId: run.runId,
    });
    for (const { ref, reason } of objects.kept) notes.push(`Kept ${describe(ref)}: ${reason}`);
    return {
      database: databaseDeleted ? run.plan.database.identifier : null,
      objects: objects.deleted.map(describe),
      notes,
      databaseDeleted,
      finalSnapshot,
      objectsDeleted: objects.deleted.length,
    };
  }

  /**
   * What a stopped real run keeps, nothing touched: its database if one carrying its tag exists (or
   * the standby it promoted), and the objects that exist labelled as the run's (which `abandon` removes).
   */
  async inventory(run: CleanupRun): Promise<SiteInventory> {
    const database = run.plan.restoresData
      ? await this.ports.recovery.restoreStatus(run.plan.database)
      : undefined;
    const identifier = run.plan.database.identifier;
    const ours = database?.runTag === run.runId;
    const promoted = database?.promotedBy === run.runId;
    const refs = createdObjects(run.plan, this.settings);
    const labels = await this.ports.cluster.runLabels(refs);
    return {
      database: ours || promoted ? identifier : null,
      objects: refs.filter((_, i) => labels[i] === run.runId).map(describe),
      notes: promoted
        ? [
            `${identifier} was promoted by this run and no longer replicates; it existed before the run, so abandoning the run keeps it. Re-create the standby from the primary once it is back.`,
          ]
        : [],
    };
  }
}

function describe(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}
