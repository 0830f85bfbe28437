import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { archiveObjectKey, cosignedObjectKey, parseArchiveObjectKey } from '../../core/ledger/archive-layout';
import type { CheckpointArchive, CosignedCheckpoint, StoredCheckpoint } from '../../core/ledger/ports';

/**
 * The local drills' stand-in for the Object-Locked bucket: one file per checkpoint, created
 * exclusively (`wx`), so that, as with `If-None-Match: *` on S3, the first one written stays. It is
 * not locked against the machine's owner; nothing local is.
 */
export class DirectoryCheckpointArchive implements CheckpointArchive {
  constructor(private readonly directory: string) {}

  async putCheckpoint(checkpoint: StoredCheckpoint): Promise<StoredCheckpoint> {
    const note = this.putOnce(archiveObjectKey(checkpoint.treeSize), checkpoint.note);
    return { treeSize: checkpoint.treeSize, note };
  }

  async putCosigned(cosigned: CosignedCheckpoint): Promise<CosignedCheckpoint> {
    const note = this.putOnce(cosignedObjectKey(cosigned.origin, cosigned.treeSize), cosigned.note);
    return { ...cosigned, note };
  }

  async readCheckpoints(): Promise<StoredCheckpoint[]> {
    return this.listed('checkpoints').flatMap(({ key, note }) => {
      const parsed = parseArchiveObjectKey(key);
      return parsed?.kind === 'checkpoint' ? [{ treeSize: parsed.treeSize, note }] : [];
    });
  }

  async readCosigned(): Promise<CosignedCheckpoint[]> {
    return this.listed('cosigned').flatMap(({ key, note }) => {
      const parsed = parseArchiveObjectKey(key);
      return parsed?.kind === 'cosigned' ? [{ origin: parsed.origin, treeSize: parsed.treeSize, note }] : [];
    });
  }

  /** Writes the object unless it exists; returns what the archive holds under the key. */
  private putOnce(key: string, note: string): string {
    const file = path.join(this.directory, key);
    mkdirSync(path.dirname(file), { recursive: true });
    try {
      writeFileSync(file, note, { flag: 'wx' });
      return note;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return readFileSync(file, 'utf8');
    }
  }

  /** Every object under a top-level prefix, in key order (tree sizes are zero-padded). */
  private listed(prefix: string): { key: string; note: string }[] {
    const root = path.join(this.directory, prefix);
    let names: string[];
    try {
      names = readdirSync(root, { recursive: true, encoding: 'utf8' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names
      .filter((name) => name.endsWith('.note'))
      .sort()
      .map((name) => {
        const key = `${prefix}/${name.split(path.sep).join('/')}`;
        return { key, note: readFileSync(path.join(root, name), 'utf8') };
      });
  }
}
