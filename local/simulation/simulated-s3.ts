import {
  assertBackupDay,
  InvalidBackupDateError,
  InvalidIntegrityManifestError,
} from '../../lambdas/adapters/aws/s3-backup-catalog';
import type { BackupCatalog, BackupLocation, IntegrityManifest } from '../../lambdas/core/recovery/ports';
import type { OperationRunner, SimulatedCall } from './calls';
import { S3_GET_MS, S3_LIST_MS } from './durations';

/**
 * Simulated S3: objects by `s3://bucket/key` with their size, last-modified time and (for small
 * text objects such as integrity manifests) their body. The backup catalog lists and reads it as
 * the S3 adapter does; the cluster's Jobs read it through their pods' IAM role, which a drill can
 * deny (`denyPodAccess`) while the Lambda tasks' role still reads.
 */

const BLOCKCHAIN_PREFIX = 'blockchain/';
/** ListObjectsV2's largest page. */
const LIST_PAGE_SIZE = 1_000;

export interface S3ObjectRecord {
  readonly bytes: number;
  /** Epoch milliseconds. */
  readonly lastModified: number;
  readonly body?: string;
}

/** What a pod that copies from an S3 location finds there. */
export type S3Read =
  | {
      readonly kind: 'found';
      readonly objects: readonly { uri: string; bytes: number }[];
      readonly bytes: number;
    }
  | { readonly kind: 'empty' }
  | { readonly kind: 'denied'; readonly message: string };

/** What S3 answers for a bucket that does not exist; the S3 adapter lets it through as the SDK names it. */
export class NoSuchBucketError extends Error {
  override name = 'NoSuchBucket';
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match?.[1]) throw new RangeError(`not an S3 URI: ${uri}`);
  return { bucket: match[1], key: match[2] ?? '' };
}

export class S3World {
  private readonly objects = new Map<string, S3ObjectRecord>();
  private readonly buckets = new Set<string>();
  private readonly podDenials = new Map<string, (uri: string) => string>();

  put(uri: string, object: S3ObjectRecord): void {
    this.buckets.add(parseS3Uri(uri).bucket);
    this.objects.set(uri, object);
  }

  hasBucket(bucket: string): boolean {
    return this.buckets.has(bucket);
  }

  object(bucket: string, key: string): S3ObjectRecord | undefined {
    return this.objects.get(`s3://${bucket}/${key}`);
  }

  /** Keys under `prefix` in key order, as ListObjectsV2 returns them. */
  list(bucket: string, prefix: string): { key: string; object: S3ObjectRecord }[] {
    const start = `s3://${bucket}/`;
    return [...this.objects]
      .filter(([uri]) => uri.startsWith(`${start}${prefix}`))
      .map(([uri, object]) => ({ key: uri.slice(start.length), object }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** From now on, pods reading anything under `uriPrefix` get AccessDenied, with the message made for the URI. */
  denyPodAccess(uriPrefix: string, message: (uri: string) => string): void {
    this.podDenials.set(uriPrefix, message);
  }

  allowPodAccess(uriPrefix: string): void {
    this.podDenials.delete(uriPrefix);
  }

  /** What `aws s3 sync <uri> …` in a pod finds: the objects under the URI, or why it cannot read them. */
  readFromPod(uri: string): S3Read {
    const denial = [...this.podDenials].find(([prefix]) => uri.startsWith(prefix));
    if (denial) return { kind: 'denied', message: denial[1](uri) };
    const { bucket, key } = parseS3Uri(uri);
    const objects = this.list(bucket, key)
      .filter(({ key: each }) => !each.endsWith('/'))
      .map(({ key: each, object }) => ({ uri: `s3://${bucket}/${each}`, bytes: object.bytes }));
    if (objects.length === 0) return { kind: 'empty' };
    return { kind: 'found', objects, bytes: objects.reduce((sum, object) => sum + object.bytes, 0) };
  }
}

function isBackupDay(day: string): boolean {
  try {
    assertBackupDay(day);
    return true;
  } catch (error) {
    if (error instanceof InvalidBackupDateError) return false;
    throw error;
  }
}

function isTableEntry(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { rows, checksum } = value as { rows?: unknown; checksum?: unknown };
  return (
    (rows === undefined || (Number.isInteger(rows) && Number(rows) >= 0)) &&
    (checksum === undefined || (typeof checksum === 'string' && /^[0-9a-f]+$/i.test(checksum)))
  );
}

/** `BackupCatalog` over the simulated S3, with the S3 adapter's layout, results and error names. */
export class SimulatedBackupCatalog implements BackupCatalog {
  constructor(
    private readonly s3: S3World,
    private readonly run: OperationRunner,
  ) {}

  findBlockchainBackup(query: { bucket: string; day?: string }): Promise<BackupLocation | undefined> {
    return this.run('findBlockchainBackup', [query], async (call) => {
      const { bucket, day } = query;
      if (day !== undefined) {
        assertBackupDay(day);
        return this.summarize(call, bucket, `${BLOCKCHAIN_PREFIX}${day}/`);
      }
      for (const newest of await this.backupDays(call, bucket)) {
        const backup = await this.summarize(call, bucket, `${BLOCKCHAIN_PREFIX}${newest}/`);
        if (backup) return backup;
      }
      return undefined;
    });
  }

  readIntegrityManifest(query: { bucket: string; day: string }): Promise<IntegrityManifest | undefined> {
    return this.run('readIntegrityManifest', [query], async (call) => {
      const { bucket, day } = query;
      assertBackupDay(day);
      const key = `manifests/${day}/integrity.json`;
      const location = `s3://${bucket}/${key}`;
      await this.request(call, bucket, S3_GET_MS);
      const object = this.s3.object(bucket, key);
      if (!object) return undefined;
      let json: unknown;
      try {
        json = JSON.parse(object.body ?? '');
      } catch (error) {
        throw new InvalidIntegrityManifestError(`${location} is not JSON`, { cause: error });
      }
      const { day: manifestDay, tables } = (json ?? {}) as { day?: unknown; tables?: unknown };
      if (
        typeof manifestDay !== 'string' ||
        typeof tables !== 'object' ||
        tables === null ||
        !Object.values(tables).every(isTableEntry)
      ) {
        throw new InvalidIntegrityManifestError(`${location} is not an integrity manifest`);
      }
      if (manifestDay !== day) {
        throw new InvalidIntegrityManifestError(`${location} describes ${manifestDay}, not ${day}`);
      }
      return { day, tables: tables as IntegrityManifest['tables'] };
    });
  }

  /** The days under `blockchain/` (a delimited listing), newest first. */
  private async backupDays(call: SimulatedCall, bucket: string): Promise<string[]> {
    const folders = new Set(
      this.s3
        .list(bucket, BLOCKCHAIN_PREFIX)
        .map(({ key }) => key.slice(BLOCKCHAIN_PREFIX.length).split('/'))
        .filter((parts) => parts.length > 1)
        .map(([folder]) => folder ?? ''),
    );
    await this.pages(call, bucket, folders.size);
    return [...folders].filter(isBackupDay).sort().reverse();
  }

  private async summarize(
    call: SimulatedCall,
    bucket: string,
    prefix: string,
  ): Promise<BackupLocation | undefined> {
    const listed = this.s3.list(bucket, prefix);
    await this.pages(call, bucket, listed.length);
    // A zero-byte key ending in `/` is a folder marker, not backup data.
    const data = listed.filter(({ key }) => !key.endsWith('/'));
    if (data.length === 0) return undefined;
    const newest = Math.max(...data.map(({ object }) => object.lastModified));
    return {
      bucket,
      prefix,
      objects: data.length,
      bytes: data.reduce((sum, { object }) => sum + object.bytes, 0),
      takenAt: new Date(newest).toISOString(),
    };
  }

  private async pages(call: SimulatedCall, bucket: string, keys: number): Promise<void> {
    for (let page = 0; page < Math.max(1, Math.ceil(keys / LIST_PAGE_SIZE)); page += 1) {
      await this.request(call, bucket, S3_LIST_MS);
    }
  }

  private async request(call: SimulatedCall, bucket: string, ms: number): Promise<void> {
    await call.spend(ms);
    if (!this.s3.hasBucket(bucket))
      throw new NoSuchBucketError(`${bucket}: The specified bucket does not exist`);
  }
}
