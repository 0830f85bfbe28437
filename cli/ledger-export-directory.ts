import { once } from 'node:events';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { LedgerExportPart } from '../lambdas/core/ledger/ledger';
import type { LedgerExportContents } from '../lambdas/core/ledger/verify-export';

/**
 * The export directory an auditor receives:
 *
 *   manifest.json      what is here (informational: nothing in it is trusted)
 *   entries.jsonl      entry i on line i, its canonical JSON exactly as hashed
 *   leaf-hashes.bin    the ledger's stored leaf hash of each entry, 32 bytes each
 *   checkpoints/       every signed checkpoint, <tree size>.note
 *   public-key.pem     the signing key's public half, for convenience; verify with one you trust
 */
export const EXPORT_FORMAT = 'aor-ledger-export/1';

export class InvalidExportDirectoryError extends Error {
  override name = 'InvalidExportDirectoryError';
}

export interface ExportSummary {
  readonly entries: number;
  readonly checkpoints: number;
  readonly directory: string;
}

export async function writeLedgerExport(
  directory: string,
  origin: string,
  publicKeyPem: string,
  parts: AsyncIterable<LedgerExportPart>,
): Promise<ExportSummary> {
  mkdirSync(path.join(directory, 'checkpoints'), { recursive: true });
  const entriesOut = createWriteStream(path.join(directory, 'entries.jsonl'));
  const hashesOut = createWriteStream(path.join(directory, 'leaf-hashes.bin'));
  let entries = 0;
  let checkpointNames: string[] = [];
  for await (const part of parts) {
    if (part.kind === 'checkpoints') {
      checkpointNames = part.checkpoints.map((checkpoint) => {
        const name = `${checkpoint.treeSize.toString().padStart(12, '0')}.note`;
        writeFileSync(path.join(directory, 'checkpoints', name), checkpoint.note);
        return name;
      });
      continue;
    }
    for (const entry of part.entries) {
      if (entry.index !== entries) {
        throw new InvalidExportDirectoryError(
          `the ledger returned entry ${entry.index} where ${entries} was due`,
        );
      }
      if (!entriesOut.write(`${entry.entry}\n`)) await once(entriesOut, 'drain');
      if (!hashesOut.write(Buffer.from(entry.leafHash, 'hex'))) await once(hashesOut, 'drain');
      entries++;
    }
  }
  await Promise.all([closeStream(entriesOut), closeStream(hashesOut)]);
  writeFileSync(path.join(directory, 'public-key.pem'), publicKeyPem);
  writeFileSync(
    path.join(directory, 'manifest.json'),
    `${JSON.stringify({ format: EXPORT_FORMAT, origin, entries, checkpoints: checkpointNames }, null, 2)}\n`,
  );
  return { entries, checkpoints: checkpointNames.length, directory };
}

/** Reads an export back for verification; checkpoints are taken from the directory, in tree-size order. */
export function readLedgerExport(directory: string, trustedCheckpoint?: string): LedgerExportContents {
  let manifest: { format?: string; origin?: string };
  try {
    manifest = JSON.parse(readFileSync(path.join(directory, 'manifest.json'), 'utf8'));
  } catch (error) {
    throw new InvalidExportDirectoryError(`${directory} is not a ledger export: ${(error as Error).message}`);
  }
  if (manifest.format !== EXPORT_FORMAT || typeof manifest.origin !== 'string') {
    throw new InvalidExportDirectoryError(`${directory}/manifest.json is not an ${EXPORT_FORMAT} manifest`);
  }
  const checkpointDir = path.join(directory, 'checkpoints');
  const names = readdirSync(checkpointDir)
    .filter((name) => name.endsWith('.note'))
    .sort();
  return {
    origin: manifest.origin,
    entries: readFileSync(path.join(directory, 'entries.jsonl')),
    leafHashes: readFileSync(path.join(directory, 'leaf-hashes.bin')),
    checkpoints: names.map((name) => ({ name, note: readFileSync(path.join(checkpointDir, name), 'utf8') })),
    ...(trustedCheckpoint !== undefined && { trustedCheckpoint }),
  };
}

function closeStream(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('error', reject);
    stream.end(() => resolve());
  });
}
