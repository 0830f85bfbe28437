import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  type ObjectVersion,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { archiveObjectKey, cosignedObjectKey, parseArchiveObjectKey } from '../../core/ledger/archive-layout';
import { LEDGER_ARCHIVE_PREFIXES } from '../../core/ledger/ledger-contract';
import type { CheckpointArchive, CosignedCheckpoint, StoredCheckpoint } from '../../core/ledger/ports';
import { mapConcurrently } from '../../shared/concurrently';
import { hasAwsErrorName, httpStatusCode } from './aws-errors';

/** How many objects an export reads at once. */
const READ_CONCURRENCY = 16;

export class ArchiveObjectMissingError extends Error {
  override name = 'ArchiveObjectMissingError';
}

/**
 * The checkpoint archive in S3: a bucket under Object Lock in compliance mode, so no one, root
 * included, can alter or delete an object version before its retention ends. Every put is
 * conditional (`If-None-Match: *`, which the bucket policy requires) so a key is written once; and
 * because a versioned bucket still lets a key gain a newer version (after a delete marker, say), every
 * read takes a key's FIRST version: that is the one written when the checkpoint was signed.
 */
export class S3CheckpointArchive implements CheckpointArchive {
  constructor(
    private readonly client: S3Client,
    private readonly bucketName: string,
  ) {}

  async putCheckpoint(checkpoint: StoredCheckpoint): Promise<StoredCheckpoint> {
    const note = await this.putOnce(archiveObjectKey(checkpoint.treeSize), checkpoint.note);
    return { treeSize: checkpoint.treeSize, note };
  }

  async putCosigned(cosigned: CosignedCheckpoint): Promise<CosignedCheckpoint> {
    const note = await this.putOnce(cosignedObjectKey(cosigned.origin, cosigned.treeSize), cosigned.note);
    return { ...cosigned, note };
  }

  async readCheckpoints(): Promise<StoredCheckpoint[]> {
    const objects = await this.firstVersions(LEDGER_ARCHIVE_PREFIXES.checkpoints);
    return objects.flatMap(({ key, note }) => {
      const parsed = parseArchiveObjectKey(key);
      return parsed?.kind === 'checkpoint' ? [{ treeSize: parsed.treeSize, note }] : [];
    });
  }

  async readCosigned(): Promise<CosignedCheckpoint[]> {
    const objects = await this.firstVersions(LEDGER_ARCHIVE_PREFIXES.cosigned);
    return objects.flatMap(({ key, note }) => {
      const parsed = parseArchiveObjectKey(key);
      return parsed?.kind === 'cosigned' ? [{ origin: parsed.origin, treeSize: parsed.treeSize, note }] : [];
    });
  }

  /** Writes `note` under `key` unless the key exists; returns what the archive holds there. */
  private async putOnce(key: string, note: string): Promise<string> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucketName,
          Key: key,
          Body: note,
          ContentType: 'text/plain; charset=utf-8',
          // Object Lock buckets require an integrity checksum on every put.
          ChecksumAlgorithm: 'SHA256',
          IfNoneMatch: '*',
        }),
      );
      return note;
    } catch (error) {
      // 412: the key exists. 409: a put of the same key is in flight (a run that died a moment ago).
      const exists = httpStatusCode(error) === 412 || hasAwsErrorName(error, ['PreconditionFailed']);
      if (!exists && !hasAwsErrorName(error, ['ConditionalRequestConflict'])) throw error;
      const [first] = await this.firstVersions(key, true);
      if (!first)
        throw new ArchiveObjectMissingError(`s3://${this.bucketName}/${key} exists but has no version`, {
          cause: error,
        });
      return first.note;
    }
  }

  /** The first version of every object under `prefix` (or of exactly that key), in key order. */
  private async firstVersions(prefix: string, exactKey = false): Promise<{ key: string; note: string }[]> {
    const first = new Map<string, ObjectVersion>();
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectVersionsCommand({
          Bucket: this.bucketName,
          Prefix: prefix,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      for (const version of page.Versions ?? []) {
        if (!version.Key || (exactKey && version.Key !== prefix)) continue;
        const seen = first.get(version.Key);
        if (!seen || isOlder(version, seen)) first.set(version.Key, version);
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
    const versions = [...first.values()].sort((a, b) => (a.Key ?? '').localeCompare(b.Key ?? ''));
    return mapConcurrently(versions, READ_CONCURRENCY, (version) => this.read(version));
  }

  private async read(version: ObjectVersion): Promise<{ key: string; note: string }> {
    const key = version.Key ?? '';
    const object = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucketName, Key: key, VersionId: version.VersionId }),
    );
    if (!object.Body) throw new ArchiveObjectMissingError(`s3://${this.bucketName}/${key} has no body`);
    return { key, note: await object.Body.transformToString('utf-8') };
  }
}

/**
 * S3 lists a key's versions newest first; LastModified has one-second precision, so for two
 * versions within the same second the later one in the listing is the older.
 */
function isOlder(candidate: ObjectVersion, seen: ObjectVersion): boolean {
  const a = candidate.LastModified?.getTime() ?? 0;
  const b = seen.LastModified?.getTime() ?? 0;
  return a <= b;
}
