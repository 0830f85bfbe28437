/**
 * What an export of one region's log holds, read the way an auditor should trust it: checkpoints
 * and cosignatures from the write-once archive (the first version of each object is the truth),
 * entries from the table. Needs only read access, so an auditor's role can export without the
 * signing key.
 */
import type {
  CheckpointArchive,
  CosignedCheckpoint,
  IntegratedEntry,
  LedgerStore,
  StoredCheckpoint,
} from './ports';

export type LedgerExportPart =
  /** This log's signed checkpoints, from the archive, oldest first. */
  | { readonly kind: 'checkpoints'; readonly checkpoints: StoredCheckpoint[] }
  /** The other log's checkpoints this region's witness cosigned, from the archive. */
  | { readonly kind: 'cosigned'; readonly cosigned: CosignedCheckpoint[] }
  /** Entries 0… up to the latest archived checkpoint, in pages, in index order. */
  | { readonly kind: 'entries'; readonly entries: IntegratedEntry[] };

export interface LogExportSource {
  readonly store: LedgerStore;
  readonly archive: CheckpointArchive;
}

/** The checkpoints, the cosignatures, then every entry the latest archived checkpoint covers. */
export async function* ledgerExportContents(
  source: LogExportSource,
  pageSize = 10_000,
): AsyncGenerator<LedgerExportPart> {
  const checkpoints = await source.archive.readCheckpoints();
  yield { kind: 'checkpoints', checkpoints };
  yield { kind: 'cosigned', cosigned: await source.archive.readCosigned() };
  const covered = checkpoints.at(-1)?.treeSize ?? 0;
  for (let from = 0; from < covered; from += pageSize) {
    yield {
      kind: 'entries',
      entries: await source.store.readEntries(from, Math.min(covered, from + pageSize)),
    };
  }
}

/**
 * Where the table's checkpoints disagree with the archive's. The sequencer archives a checkpoint
 * before it lists it in the table, so the archive may hold one more (a run that died in between);
 * anything else — a listed checkpoint the archive lacks, or a different note for the same size —
 * means the table was written by someone other than the sequencer.
 */
export async function archiveDiscrepancies(source: LogExportSource): Promise<string[]> {
  const [listed, archived] = await Promise.all([
    source.store.readCheckpoints(),
    source.archive.readCheckpoints(),
  ]);
  const archivedBySize = new Map(archived.map((checkpoint) => [checkpoint.treeSize, checkpoint.note]));
  const problems: string[] = [];
  for (const checkpoint of listed) {
    const note = archivedBySize.get(checkpoint.treeSize);
    if (note === undefined) {
      problems.push(
        `the table lists a checkpoint of tree size ${checkpoint.treeSize} that the archive does not hold`,
      );
    } else if (note !== checkpoint.note) {
      problems.push(
        `the table's checkpoint of tree size ${checkpoint.treeSize} differs from the archived one`,
      );
    }
  }
  const listedSizes = new Set(listed.map((checkpoint) => checkpoint.treeSize));
  const unlisted = archived.filter((checkpoint) => !listedSizes.has(checkpoint.treeSize));
  const latestListed = listed.at(-1)?.treeSize ?? -1;
  for (const checkpoint of unlisted) {
    if (checkpoint.treeSize < latestListed) {
      problems.push(
        `the archive holds a checkpoint of tree size ${checkpoint.treeSize} that the table does not list`,
      );
    }
  }
  return problems;
}
