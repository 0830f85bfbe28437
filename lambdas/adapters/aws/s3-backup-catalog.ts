import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import type { BackupCatalog, BackupLocation, IntegrityManifest } from '../../core/recovery/ports';
import {
  AwsThrottledError,
  awsErrorMessage,
  hasAwsErrorName,
  isThrottling,
  translatingErrors,
} from './aws-errors';

const BLOCKCHAIN_PREFIX = 'blockchain/';
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** A backup day is a UTC calendar day written `YYYY-MM-DD`, the name of its folder in the backup bucket. */
export class InvalidBackupDateError extends Error {
  override name = 'InvalidBackupDateError';
}

/** The integrity manifest exists but is not JSON of the expected shape, or describes another day. */
export class InvalidIntegrityManifestError extends Error {
  override name = 'InvalidIntegrityManifestError';
}

export class S3ThrottledError extends AwsThrottledError {
  override name = 'S3ThrottledError';
}

function isBackupDay(day: string): boolean {
  // The pattern alone accepts 2026-02-30, which Date rolls over to March: only a real day round-trips.
  const midnight = Date.parse(`${day}T00:00:00Z`);
  return DAY_PATTERN.test(day) && !Number.isNaN(midnight) && new Date(midnight).toISOString().startsWith(day);
}

export function assertBackupDay(day: string): void {
  if (!isBackupDay(day)) {
    throw new InvalidBackupDateError(`${JSON.stringify(day)} is not a backup day (a UTC date, YYYY-MM-DD)`);
  }
}

const IntegrityManifestSchema = z.object({
  day: z.string(),
  tables: z.record(
    z.string().min(1),
    z.object({
      rows: z.int().min(0).optional(),
      checksum: z
        .string()
        .regex(/^[0-9a-f]+$/i, 'a checksum is a hexadecimal digest')
        .optional(),
    }),
  ),
});

function parseIntegrityManifest(text: string, day: string, location: string): IntegrityManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidIntegrityManifestError(`${location} is not JSON`, { cause: error });
  }
  const parsed = IntegrityManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidIntegrityManifestError(`${location}: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  // A manifest filed under the wrong day would vouch for data it was never computed from.
  if (parsed.data.day !== day) {
    throw new InvalidIntegrityManifestError(`${location} describes ${parsed.data.day}, not ${day}`);
  }
  return parsed.data;
}

function translateS3Error(subject: string): (error: unknown) => unknown {
  return (error) =>
    isThrottling(error)
      ? new S3ThrottledError(`S3 throttled a request for ${subject}: ${awsErrorMessage(error)}`, {
          cause: error,
        })
      : error;
}

/**
 * The backup bucket's layout: blockchain data under `blockchain/<YYYY-MM-DD>/`, and the integrity manifest of
 * each day at `manifests/<YYYY-MM-DD>/integrity.json`.
 */
export class S3BackupCatalog implements BackupCatalog {
  constructor(private readonly s3: S3Client) {}

  async findBlockchainBackup(query: { bucket: string; day?: string }): Promise<BackupLocation | undefined> {
    const { bucket, day } = query;
    if (day !== undefined) {
      assertBackupDay(day);
      return this.summarize(bucket, `${BLOCKCHAIN_PREFIX}${day}/`);
    }
    for (const newest of await this.backupDays(bucket)) {
      const backup = await this.summarize(bucket, `${BLOCKCHAIN_PREFIX}${newest}/`);
      if (backup) return backup;
    }
    return undefined;
  }

  async readIntegrityManifest(query: {
    bucket: string;
    day: string;
  }): Promise<IntegrityManifest | undefined> {
    const { bucket, day } = query;
    assertBackupDay(day);
    const key = `manifests/${day}/integrity.json`;
    const location = `s3://${bucket}/${key}`;
    let text: string;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      text = (await object.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      // S3 reports a missing key as NoSuchKey only to a caller allowed to list the bucket; without
      // s3:ListBucket it answers AccessDenied, which rightly propagates.
      if (hasAwsErrorName(error, ['NoSuchKey'])) return undefined;
      throw translateS3Error(location)(error);
    }
    return parseIntegrityManifest(text, day, location);
  }

  /** The backup days present in the bucket, newest first; folders not named like a day are ignored. */
  private async backupDays(bucket: string): Promise<string[]> {
    const days: string[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await translatingErrors(
        () =>
          this.s3.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: BLOCKCHAIN_PREFIX,
              Delimiter: '/',
              ContinuationToken: continuationToken,
            }),
          ),
        translateS3Error(`s3://${bucket}/${BLOCKCHAIN_PREFIX}`),
      );
      for (const { Prefix: prefix } of page.CommonPrefixes ?? []) {
        const day = prefix?.slice(BLOCKCHAIN_PREFIX.length, -1);
        if (day !== undefined && isBackupDay(day)) days.push(day);
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
    // YYYY-MM-DD sorts chronologically as text.
    return days.sort().reverse();
  }

  /** Counts and sizes what is stored under a day's prefix; undefined when it holds no data. */
  private async summarize(bucket: string, prefix: string): Promise<BackupLocation | undefined> {
    let objects = 0;
    let bytes = 0;
    let newest: Date | undefined;
    let continuationToken: string | undefined;
    do {
      const page = await translatingErrors(
        () =>
          this.s3.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix,
              ContinuationToken: continuationToken,
            }),
          ),
        translateS3Error(`s3://${bucket}/${prefix}`),
      );
      for (const object of page.Contents ?? []) {
        // A zero-byte key ending in `/` is a folder marker (the console creates them), not backup data.
        if (object.Key === undefined || object.Key.endsWith('/')) continue;
        objects += 1;
        bytes += object.Size ?? 0;
        if (object.LastModified && (!newest || object.LastModified > newest)) newest = object.LastModified;
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
    if (objects === 0 || !newest) return undefined;
    return { bucket, prefix, objects, bytes, takenAt: newest.toISOString() };
  }
}
