/**
 * Offline verification of a ledger export, with nothing but its bytes and a trusted public key.
 *
 * An export holds the entries (one canonical JSON entry per line), the leaf hashes the ledger
 * stored for them, and the signed checkpoints. Nothing in it is trusted: the checkpoints are
 * trusted once their signatures verify; the stored leaf hashes once the tree they form has the
 * signed root at every checkpoint; an entry once its own hash equals its authenticated leaf hash.
 * That order lets the verifier name the first bad entry, not just say that something is wrong.
 */
import { HASH_BYTES, type Hash, leafHash, MerkleFrontier } from './merkle';
import { type NoteVerifier, openCheckpoint, type ParsedCheckpoint } from './signed-note';

export interface LedgerExportContents {
  readonly origin: string;
  /** The entries file: entry i is line i, each line ending in `\n`. */
  readonly entries: Uint8Array;
  /** 32 bytes per entry, the ledger's stored leaf hashes in index order. */
  readonly leafHashes: Uint8Array;
  /** The checkpoints in the order the export lists them (by tree size). */
  readonly checkpoints: readonly { readonly name: string; readonly note: string }[];
  /** A checkpoint the auditor saw before (e.g. from the Object-Locked bucket): no rollback below it. */
  readonly trustedCheckpoint?: string;
}

export type LedgerVerification =
  | { readonly ok: true; readonly entries: number; readonly checkpoints: number; readonly rootHash: string }
  | {
      readonly ok: false;
      readonly problem: string;
      readonly firstBadIndex?: number;
      readonly badCheckpoint?: string;
    };

const NEWLINE = 0x0a;

export function verifyLedgerExport(
  contents: LedgerExportContents,
  verifiers: readonly NoteVerifier[],
): LedgerVerification {
  const opened: { name: string; checkpoint: ParsedCheckpoint }[] = [];
  for (const { name, note } of contents.checkpoints) {
    try {
      opened.push({ name, checkpoint: openCheckpoint(note, contents.origin, verifiers).checkpoint });
    } catch (error) {
      return { ok: false, problem: `checkpoint ${name}: ${(error as Error).message}`, badCheckpoint: name };
    }
  }
  for (let i = 1; i < opened.length; i++) {
    const previous = opened[i - 1];
    const current = opened[i];
    if (previous && current && current.checkpoint.treeSize <= previous.checkpoint.treeSize) {
      return {
        ok: false,
        problem: `checkpoint ${current.name} rolls the tree back from ${previous.checkpoint.treeSize} to ${current.checkpoint.treeSize} entries`,
        badCheckpoint: current.name,
      };
    }
  }
  const latest = opened.at(-1);
  if (!latest) return { ok: false, problem: 'the export has no checkpoint' };
  const treeSize = latest.checkpoint.treeSize;
  let trusted: ParsedCheckpoint | undefined;
  if (contents.trustedCheckpoint !== undefined) {
    const checked = openTrusted(contents.trustedCheckpoint, contents.origin, verifiers, latest);
    if (!checked.ok) return checked.problem;
    trusted = checked.trusted;
  }

  if (contents.leafHashes.length !== treeSize * HASH_BYTES) {
    return {
      ok: false,
      problem: `the export has ${contents.leafHashes.length / HASH_BYTES} leaf hashes; the latest checkpoint covers ${treeSize}`,
    };
  }

  // One pass: build the tree of the stored leaf hashes (checked against each checkpoint) and
  // compare each entry's own hash with its stored one.
  const frontier = new MerkleFrontier();
  let nextCheckpoint = 0;
  let firstBadEntry: number | undefined;
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
    const due = opened[nextCheckpoint];
    if (due && due.checkpoint.treeSize === index + 1) {
      if (!equalHashes(frontier.root(), due.checkpoint.rootHash)) {
        return {
          ok: false,
          problem: `checkpoint ${due.name} (tree size ${due.checkpoint.treeSize}) does not match the export's tree: an entry before index ${due.checkpoint.treeSize} was changed, removed, reordered or inserted`,
          badCheckpoint: due.name,
          ...(firstBadEntry !== undefined && { firstBadIndex: firstBadEntry }),
        };
      }
      nextCheckpoint++;
    }
    if (trusted?.treeSize === index + 1 && !equalHashes(frontier.root(), trusted.rootHash)) {
      return {
        ok: false,
        problem: `the export's tree at ${trusted.treeSize} entries disagrees with the trusted checkpoint: the log forked or was rewritten`,
        badCheckpoint: 'trusted',
        ...(firstBadEntry !== undefined && { firstBadIndex: firstBadEntry }),
      };
    }
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
    checkpoints: opened.length,
    rootHash: Buffer.from(latest.checkpoint.rootHash).toString('base64'),
  };
}

/** The auditor's earlier checkpoint: the export must reach at least as far (no rollback). */
function openTrusted(
  note: string,
  origin: string,
  verifiers: readonly NoteVerifier[],
  latest: { name: string; checkpoint: ParsedCheckpoint },
): { ok: true; trusted: ParsedCheckpoint } | { ok: false; problem: LedgerVerification } {
  let trusted: ParsedCheckpoint;
  try {
    trusted = openCheckpoint(note, origin, verifiers).checkpoint;
  } catch (error) {
    return {
      ok: false,
      problem: {
        ok: false,
        problem: `trusted checkpoint: ${(error as Error).message}`,
        badCheckpoint: 'trusted',
      },
    };
  }
  if (latest.checkpoint.treeSize < trusted.treeSize) {
    return {
      ok: false,
      problem: {
        ok: false,
        problem: `the export ends at ${latest.checkpoint.treeSize} entries, before the trusted checkpoint's ${trusted.treeSize}: it was rolled back`,
        badCheckpoint: latest.name,
      },
    };
  }
  return { ok: true, trusted };
}

function equalHashes(a: Hash, b: Hash): boolean {
  return Buffer.compare(a, b) === 0;
}
