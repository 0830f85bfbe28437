/**
 * Object keys of the checkpoint archive, shared by the S3 archive and the local one: sorted by tree
 * size, so a listing is the log's history.
 *
 *   checkpoints/<tree size, 12 digits>.note                    this log's checkpoints
 *   cosigned/<URI-encoded origin>/<tree size, 12 digits>.note  the other log's, cosigned here
 */
import { LEDGER_ARCHIVE_PREFIXES } from './ledger-contract';

const SIZE_DIGITS = 12;

function paddedSize(treeSize: number): string {
  return treeSize.toString().padStart(SIZE_DIGITS, '0');
}

export function archiveObjectKey(treeSize: number): string {
  return `${LEDGER_ARCHIVE_PREFIXES.checkpoints}${paddedSize(treeSize)}.note`;
}

export function cosignedObjectKey(origin: string, treeSize: number): string {
  return `${LEDGER_ARCHIVE_PREFIXES.cosigned}${encodeURIComponent(origin)}/${paddedSize(treeSize)}.note`;
}

export type ArchiveObject =
  | { readonly kind: 'checkpoint'; readonly treeSize: number }
  | { readonly kind: 'cosigned'; readonly origin: string; readonly treeSize: number };

/** What an archive key holds, or undefined for a key this layout never writes. */
export function parseArchiveObjectKey(key: string): ArchiveObject | undefined {
  const checkpoint = new RegExp(`^${LEDGER_ARCHIVE_PREFIXES.checkpoints}(\\d{${SIZE_DIGITS}})\\.note$`).exec(
    key,
  );
  if (checkpoint?.[1] !== undefined) return { kind: 'checkpoint', treeSize: Number(checkpoint[1]) };
  const cosigned = new RegExp(
    `^${LEDGER_ARCHIVE_PREFIXES.cosigned}([^/]+)/(\\d{${SIZE_DIGITS}})\\.note$`,
  ).exec(key);
  if (cosigned?.[1] === undefined || cosigned[2] === undefined) return undefined;
  try {
    return { kind: 'cosigned', origin: decodeURIComponent(cosigned[1]), treeSize: Number(cosigned[2]) };
  } catch {
    return undefined;
  }
}
