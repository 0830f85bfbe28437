/**
 * Offline verification of one log's export, with nothing but its bytes and a trusted public key.
 *
 * An export holds the entries (one canonical JSON entry per line), the leaf hashes the ledger
 * stored for them, and the signed checkpoints. Nothing in it is trusted: the checkpoints are
 * trusted once their signatures verify; the stored leaf hashes once the tree they form has the
 * signed root at every checkpoint; an entry once its own hash equals its authenticated leaf hash.
 * That order lets the verifier name the first bad entry, not just say that something is wrong.
 *
 * Checkpoints from outside the export (one the auditor kept, one the other region's witness
 * cosigned) are compared with the same rebuilt tree: a log rewritten and re-signed with its own
 * key still disagrees with them, and an export cut short before them is a rollback.
 */
import { HASH_BYTES, type Hash, leafHash, MerkleFrontier } from './merkle';
import { type NoteVerifier, openCheckpoint, type ParsedCheckpoint } from './signed-note';

/** A signed note and the name it is reported under (a file of the export, an auditor's file). */
export interface NamedNote {
  readonly name: string;
  readonly note: string;
}

export interface LedgerExportContents {
  /** The log's origin: every checkpoint must be for it. */
  readonly origin: string;
  /** The entries file: entry i is line i, each line ending in `\n`. */
  readonly entries: Uint8Array;
  /** 32 bytes per entry, the ledger's stored leaf hashes in index order. */
  readonly leafHashes: Uint8Array;
  /** The checkpoints in the order the export lists them, which must be by growing tree size. */
  readonly checkpoints: readonly NamedNote[];
}

export type LedgerVerification =
  | { readonly ok: true; readonly entries: number; readonly checkpoints: number; readonly rootHash: string }
  | {
      readonly ok: false;
      readonly problem: string;
      readonly firstBadIndex?: number;
      readonly badCheckpoint?: string;
    };

type Failure = Extract<LedgerVerification, { ok: false }>;

/** A verified checkpoint waiting to be compared with the tree rebuilt from the export. */
interface DueCheckpoint {
  readonly name: string;
  /** `trusted` came from outside the export, so disagreeing with it means a fork, not a bad file. */
  readonly source: 'export' | 'trusted';
  readonly checkpoint: ParsedCheckpoint;
}

const NEWLINE = 0x0a;

/**
 * Verifies an export against the log's verifiers and any checkpoints trusted from elsewhere
 * (each must be signed by the log's key; each is compared with the export's tree at its size).
 */
export function verifyLedgerExport(
  contents: LedgerExportContents,
  verifiers: readonly NoteVerifier[],
  trustedCheckpoints: readonly NamedNote[] = [],
): LedgerVerification {
  const listed = openAll(contents.checkpoints, 'export', contents.origin, verifiers);
  if (!Array.isArray(listed)) return listed;
  const shape = checkListing(listed);
  if (shape) return shape;
  const latest = listed.at(-1);
  if (!latest) return { ok: false, problem: 'the export has no checkpoint' };
  const trusted = openAll(trustedCheckpoints, 'trusted', contents.origin, verifiers);
  if (!Array.isArray(trusted)) return trusted;

  const treeSize = latest.checkpoint.treeSize;
  if (contents.leafHashes.length !== treeSize * HASH_BYTES) {
    return {
      ok: false,
      problem: `the export has ${contents.leafHashes.length} bytes of leaf hashes; the latest checkpoint covers ${treeSize} entries (${treeSize * HASH_BYTES} bytes)`,
    };
  }

  // Every checkpoint, listed or trusted, waits here under its tree size until the rebuilt tree
  // reaches that size, and leaves only when compared. Whatever is left after the pass was never
  // compared: that, not a counter kept alongside, is what proves each one was checked.
  const due = new Map<number, DueCheckpoint[]>();
  for (const checkpoint of [...listed, ...trusted]) {
    const size = checkpoint.checkpoint.treeSize;
    due.set(size, [...(due.get(size) ?? []), checkpoint]);
  }

  // One pass: build the tree of the stored leaf hashes (compared with each checkpoint at its size,
  // the empty tree's included) and compare each entry's own hash with its stored one.
  const frontier = new MerkleFrontier();
  let firstBadEntry: number | undefined;
  const compareDue = (): Failure | undefined => {
    const checkpoints = due.get(frontier.size);
    if (!checkpoints) return undefined;
    due.delete(frontier.size);
    const root = frontier.root();
    const mismatch = checkpoints.find(({ checkpoint }) => !equalHashes(root, checkpoint.rootHash));
    return mismatch && disagreement(mismatch, firstBadEntry);
  };
  const atEmptyTree = compareDue();
  if (atEmptyTree) return atEmptyTree;

  let lineStart = 0;
  const { entries, leafHashes } = contents;
  for (let index = 0; index < treeSize; index++) {
    const stored = leafHashes.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES);
    frontier.append(stored);
    const lineEnd = lineStart < entries.length ? entries.indexOf(NEWLINE, lineStart) : -1;
    if (lineEnd < 0) {
      firstBadEntry ??= index;
    } else {
      if (
        firstBadEntry === undefined &&
        !equalHashes(leafHash(entries.subarray(lineStart, lineEnd)), stored)
      ) {
        firstBadEntry = index;
      }
      lineStart = lineEnd + 1;
    }
    const failure = compareDue();
    if (failure) return failure;
  }

  const [uncompared] = [...due.values()].flat().sort((a, b) => a.checkpoint.treeSize - b.checkpoint.treeSize);
  if (uncompared) {
    return {
      ok: false,
      problem: `the export ends at ${treeSize} entries, before ${label(uncompared.source, uncompared.name)}'s ${uncompared.checkpoint.treeSize}: it was truncated or rolled back`,
      badCheckpoint: uncompared.name,
    };
  }
  if (firstBadEntry !== undefined) {
    return {
      ok: false,
      problem: `entry ${firstBadEntry} does not match the signed tree: it was changed, removed, reordered or inserted`,
      firstBadIndex: firstBadEntry,
    };
  }
  if (lineStart !== entries.length) {
    return {
      ok: false,
      problem: `entries after index ${treeSize - 1} are not covered by any signed checkpoint`,
      firstBadIndex: treeSize,
    };
  }
  return {
    ok: true,
    entries: treeSize,
    checkpoints: listed.length,
    rootHash: Buffer.from(latest.checkpoint.rootHash).toString('base64'),
  };
}

/** Opens each note as a checkpoint of `origin`; the first that fails is named. */
function openAll(
  notes: readonly NamedNote[],
  source: DueCheckpoint['source'],
  origin: string,
  verifiers: readonly NoteVerifier[],
): DueCheckpoint[] | Failure {
  const opened: DueCheckpoint[] = [];
  for (const { name, note } of notes) {
    try {
      opened.push({ name, source, checkpoint: openCheckpoint(note, origin, verifiers).checkpoint });
    } catch (error) {
      return {
        ok: false,
        problem: `${label(source, name)}: ${(error as Error).message}`,
        badCheckpoint: name,
      };
    }
  }
  return opened;
}

/**
 * The export lists one checkpoint per tree size, growing. A size seen twice is refused by a set of
 * the sizes seen (not by the ordering comparison), so the guarantee does not rest on one operator.
 */
function checkListing(listed: readonly DueCheckpoint[]): Failure | undefined {
  const seen = new Map<number, string>();
  let previous: DueCheckpoint | undefined;
  for (const current of listed) {
    const size = current.checkpoint.treeSize;
    const earlier = seen.get(size);
    if (earlier !== undefined) {
      return {
        ok: false,
        problem: `checkpoint ${current.name} repeats tree size ${size} of checkpoint ${earlier}`,
        badCheckpoint: current.name,
      };
    }
    seen.set(size, current.name);
    if (previous && size < previous.checkpoint.treeSize) {
      return {
        ok: false,
        problem: `checkpoint ${current.name} rolls the tree back from ${previous.checkpoint.treeSize} to ${size} entries`,
        badCheckpoint: current.name,
      };
    }
    previous = current;
  }
  return undefined;
}

function disagreement(due: DueCheckpoint, firstBadEntry: number | undefined): Failure {
  const size = due.checkpoint.treeSize;
  const why =
    due.source === 'trusted'
      ? `the export's tree at ${size} entries disagrees with ${label(due.source, due.name)}: the log forked or was rewritten`
      : size === 0
        ? `checkpoint ${due.name} (tree size 0) does not have the empty tree's root`
        : `checkpoint ${due.name} (tree size ${size}) does not match the export's tree: an entry before index ${size} was changed, removed, reordered or inserted`;
  return {
    ok: false,
    problem: why,
    badCheckpoint: due.name,
    ...(firstBadEntry !== undefined && { firstBadIndex: firstBadEntry }),
  };
}

function label(source: DueCheckpoint['source'], name: string): string {
  return source === 'trusted' ? `trusted checkpoint ${name}` : `checkpoint ${name}`;
}

function equalHashes(a: Hash, b: Hash): boolean {
  return Buffer.compare(a, b) === 0;
}
