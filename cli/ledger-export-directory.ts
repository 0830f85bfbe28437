import { type FileHandle, mkdir, open, readdir, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { LedgerExportPart } from '../lambdas/core/ledger/ledger-export';
import type { IntegratedEntry } from '../lambdas/core/ledger/ports';
import type { CosignedNote, ExportedLog } from '../lambdas/core/ledger/verify-ledgers';

/**
 * The export directory an auditor receives, one subdirectory per region's log:
 *
 *   manifest.json                  the format and where each log is (used only to find them)
 *   <slug>/manifest.json           what is there (informational: nothing in it is trusted)
 *   <slug>/entries.jsonl           entry i on line i, its canonical JSON exactly as hashed
 *   <slug>/leaf-hashes.bin         the ledger's stored leaf hash of each entry, 32 bytes each
 *   <slug>/checkpoints/            every signed checkpoint, <tree size, 12 digits>.note
 *   <slug>/cosigned/<slug>/        the other log's checkpoints this log's witness cosigned
 *   <slug>/public-key.pem, <slug>/verifier-key.txt
 *                                  the log's key, for convenience; verify with keys you pinned
 *
 * `<slug>` is the origin with every character outside [A-Za-z0-9.-] replaced by `_`.
 */
export const EXPORT_FORMAT = 'aor-ledger-export/2';

/** The directory is missing, is not an export of this format, or holds what the format does not. */
export class InvalidExportDirectoryError extends Error {
  override name = 'InvalidExportDirectoryError';
}

/** What the ledger handed over cannot be written as an export without losing or shifting something. */
export class InconsistentLedgerExportError extends Error {
  override name = 'InconsistentLedgerExportError';
}

export interface LogExport {
  readonly origin: string;
  readonly publicKeyPem: string;
  readonly verifierKey: string;
  readonly parts: AsyncIterable<LedgerExportPart>;
  /** Found while exporting (e.g. the table disagreeing with the archive); recorded in the manifest. */
  readonly problems?: readonly string[];
}

export interface ExportSummary {
  readonly directory: string;
  readonly logs: readonly {
    readonly origin: string;
    readonly directory: string;
    readonly entries: number;
    readonly checkpoints: number;
    readonly cosigned: number;
    /** As given: found while exporting, not by verification. */
    readonly problems: readonly string[];
  }[];
}

// Zero-padded so that name order is tree-size order; anything else in these folders is refused.
const NOTE_FILE = /^[0-9]{12}\.note$/;
const LEAF_HASH_HEX = /^[0-9a-f]{64}$/;

export function exportSlug(origin: string): string {
  const slug = origin.replace(/[^A-Za-z0-9.-]/g, '_');
  if (slug === '' || slug === '.' || slug === '..') {
    throw new InvalidExportDirectoryError(`origin "${origin}" cannot name an export directory`);
  }
  return slug;
}

function noteFileName(treeSize: number): string {
  return `${treeSize.toString().padStart(12, '0')}.note`;
}

/**
 * Writes every log into `directory` (which must be new or empty), streaming the entries page by
 * page. The top manifest is written last, so an interrupted export is not mistaken for one.
 */
export async function writeLedgerExport(
  directory: string,
  logs: readonly LogExport[],
): Promise<ExportSummary> {
  await mkdir(directory, { recursive: true });
  if ((await readdir(directory)).length > 0) {
    // Files left from another export would be read, and verified, as part of this one.
    throw new InvalidExportDirectoryError(`${directory} is not empty`);
  }
  const slugs = new Set<string>();
  for (const { origin } of logs) {
    const slug = exportSlug(origin);
    if (slugs.has(slug)) {
      throw new InconsistentLedgerExportError(`two logs to export share the directory ${slug}`);
    }
    slugs.add(slug);
  }
  const summaries: ExportSummary['logs'][number][] = [];
  for (const log of logs) summaries.push(await writeLog(directory, log));
  const manifest = {
    format: EXPORT_FORMAT,
    logs: summaries.map(({ origin, directory: logDirectory }) => ({ origin, directory: logDirectory })),
  };
  await writeFile(path.join(directory, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { directory, logs: summaries };
}

async function writeLog(directory: string, log: LogExport): Promise<ExportSummary['logs'][number]> {
  const slug = exportSlug(log.origin);
  const root = path.join(directory, slug);
  await mkdir(path.join(root, 'checkpoints'), { recursive: true });
  await mkdir(path.join(root, 'cosigned'), { recursive: true });
  const checkpoints: string[] = [];
  const cosigned: string[] = [];
  let entries = 0;
  const entriesFile = await open(path.join(root, 'entries.jsonl'), 'ax');
  const hashesFile = await open(path.join(root, 'leaf-hashes.bin'), 'ax');
  try {
    for await (const part of log.parts) {
      if (part.kind === 'checkpoints') {
        for (const { treeSize, note } of part.checkpoints) {
          const name = noteFileName(treeSize);
          await writeOnce(path.join(root, 'checkpoints', name), note);
          checkpoints.push(name);
        }
      } else if (part.kind === 'cosigned') {
        for (const { origin, treeSize, note } of part.cosigned) {
          const name = path.posix.join('cosigned', exportSlug(origin), noteFileName(treeSize));
          await mkdir(path.join(root, 'cosigned', exportSlug(origin)), { recursive: true });
          await writeOnce(path.join(root, name), note);
          cosigned.push(name);
        }
      } else {
        entries = await appendEntries(entriesFile, hashesFile, part.entries, entries);
      }
    }
  } finally {
    await Promise.all([entriesFile.close(), hashesFile.close()]);
  }
  await writeFile(path.join(root, 'public-key.pem'), log.publicKeyPem);
  await writeFile(path.join(root, 'verifier-key.txt'), `${log.verifierKey}\n`);
  const problems = log.problems ?? [];
  const manifest = { origin: log.origin, entries, checkpoints, cosigned, problems };
  await writeFile(path.join(root, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    origin: log.origin,
    directory: slug,
    entries,
    checkpoints: checkpoints.length,
    cosigned: cosigned.length,
    problems,
  };
}

/** A second note of the same size would overwrite the first: refuse instead of losing one. */
async function writeOnce(file: string, note: string): Promise<void> {
  try {
    await writeFile(file, note, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new InconsistentLedgerExportError(`the ledger returned two notes for ${file}`);
    }
    throw error;
  }
}

/**
 * One page of entries as one write per file. An entry is refused, by index, where the format could
 * not hold it faithfully: a line break would split it, a malformed leaf hash shift every later one.
 */
async function appendEntries(
  entriesFile: FileHandle,
  hashesFile: FileHandle,
  page: readonly IntegratedEntry[],
  written: number,
): Promise<number> {
  const hashes = Buffer.alloc(page.length * 32);
  const lines: string[] = [];
  let next = written;
  for (const entry of page) {
    if (entry.index !== next) {
      throw new InconsistentLedgerExportError(
        `the ledger returned entry ${entry.index} where ${next} was due`,
      );
    }
    if (entry.entry.includes('\n')) {
      throw new InconsistentLedgerExportError(`entry ${entry.index} contains a line break`);
    }
    if (!LEAF_HASH_HEX.test(entry.leafHash)) {
      throw new InconsistentLedgerExportError(`entry ${entry.index} has a malformed leaf hash`);
    }
    hashes.write(entry.leafHash, (entry.index - written) * 32, 'hex');
    lines.push(`${entry.entry}\n`);
    next++;
  }
  await entriesFile.appendFile(lines.join(''));
  await hashesFile.appendFile(hashes);
  return next;
}

/**
 * Reads an export back for `verifyLedgerExports`. The top manifest only locates the logs; what is
 * verified is every file in each log's directory, and which logs count is decided by the pinned
 * keys, not by anything here.
 */
export function readLedgerExport(directory: string): { logs: ExportedLog[] } {
  if (!isDirectory(directory)) {
    throw new InvalidExportDirectoryError(`${directory} is not a ledger export: no such directory`);
  }
  const logs = readManifest(directory);
  // A log left out of the manifest would take its cosignatures with it: refuse to skip it.
  for (const name of readdirSync(directory)) {
    if (isDirectory(path.join(directory, name)) && !logs.some((log) => log.directory === name)) {
      throw new InvalidExportDirectoryError(`${directory} holds ${name}, which its manifest does not list`);
    }
  }
  return { logs: logs.map(({ origin, directory: slug }) => readLog(directory, slug, origin)) };
}

function readManifest(directory: string): { origin: string; directory: string }[] {
  const file = path.join(directory, 'manifest.json');
  let manifest: { format?: unknown; logs?: unknown };
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InvalidExportDirectoryError(`${directory} is not a ledger export: ${(error as Error).message}`);
  }
  if (manifest.format !== EXPORT_FORMAT) {
    throw new InvalidExportDirectoryError(
      `${file} has format ${JSON.stringify(manifest.format)}; this verifier reads ${EXPORT_FORMAT}`,
    );
  }
  const logs = Array.isArray(manifest.logs) ? (manifest.logs as unknown[]) : [];
  const located = logs.map((log) => {
    const { origin, directory: slug } = (log ?? {}) as { origin?: unknown; directory?: unknown };
    // The directory follows from the origin, so the manifest cannot point outside the export.
    if (typeof origin !== 'string' || typeof slug !== 'string' || slug !== exportSlug(origin)) {
      throw new InvalidExportDirectoryError(`${file} lists a log without an origin and its directory`);
    }
    return { origin, directory: slug };
  });
  if (new Set(located.map((log) => log.directory)).size !== located.length) {
    throw new InvalidExportDirectoryError(`${file} lists a log twice`);
  }
  return located;
}

function readLog(directory: string, slug: string, origin: string): ExportedLog {
  const root = path.join(directory, slug);
  if (!isDirectory(root)) {
    throw new InvalidExportDirectoryError(`${root} is missing: the manifest lists ${origin} there`);
  }
  const checkpoints = noteFiles(root, 'checkpoints').map((name) => ({
    name: path.posix.join(slug, name),
    note: readExportFile(path.join(root, name)).toString('utf8'),
  }));
  const cosignedRoot = path.join(root, 'cosigned');
  const cosigned: CosignedNote[] = subdirectories(cosignedRoot).flatMap((witnessed) =>
    noteFiles(root, path.posix.join('cosigned', witnessed)).map((name) => {
      const note = readExportFile(path.join(root, name)).toString('utf8');
      // Routed by the origin the note itself names; its signatures decide whether it counts.
      const end = note.indexOf('\n');
      return { name: path.posix.join(slug, name), origin: end < 0 ? note : note.slice(0, end), note };
    }),
  );
  return {
    contents: {
      origin,
      entries: readExportFile(path.join(root, 'entries.jsonl')),
      leafHashes: readExportFile(path.join(root, 'leaf-hashes.bin')),
      checkpoints,
    },
    cosigned,
  };
}

/** Every file of a notes folder, relative to the log's directory, in tree-size order. */
function noteFiles(root: string, folder: string): string[] {
  const names = listFolder(path.join(root, folder));
  for (const name of names) {
    if (!NOTE_FILE.test(name)) {
      throw new InvalidExportDirectoryError(
        `${path.join(root, folder, name)} is not a <tree size>.note file`,
      );
    }
  }
  return names.map((name) => path.posix.join(folder, name));
}

function subdirectories(folder: string): string[] {
  return listFolder(folder).map((name) => {
    if (!isDirectory(path.join(folder, name))) {
      throw new InvalidExportDirectoryError(
        `${path.join(folder, name)} is not a directory of cosigned notes`,
      );
    }
    return name;
  });
}

/** A file the format requires: its absence is named, not reported as a bare ENOENT. */
function readExportFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new InvalidExportDirectoryError(`${file} cannot be read: ${(error as Error).message}`);
  }
}

function listFolder(folder: string): string[] {
  try {
    return readdirSync(folder).sort();
  } catch (error) {
    throw new InvalidExportDirectoryError(`${folder} cannot be listed: ${(error as Error).message}`);
  }
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}
