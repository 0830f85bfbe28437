import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  NoSuchKey,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidBackupDateError,
  InvalidIntegrityManifestError,
  S3BackupCatalog,
  S3ThrottledError,
} from '../../../lambdas/adapters/aws/s3-backup-catalog';

const BUCKET = 'phoenix-rooivalk-backups';
const s3 = mockClient(S3Client);
const catalog = new S3BackupCatalog(new S3Client({ region: 'us-gov-east-1' }));

/** A GetObject body as the SDK hands it over: a stream with the SDK's read helpers. */
function objectBody(text: string): GetObjectCommandOutput['Body'] {
  const bytes = new TextEncoder().encode(text);
  return Object.assign(Readable.from([bytes]), {
    transformToString: async (encoding?: string) => new TextDecoder(encoding).decode(bytes),
    transformToByteArray: async () => bytes,
    transformToWebStream: () => new Blob([bytes]).stream(),
  });
}

function object(Key: string, Size: number, lastModified: string) {
  return { Key, Size, LastModified: new Date(lastModified) };
}

beforeEach(() => {
  s3.reset();
});

describe('findBlockchainBackup of a given day', () => {
  it('lists every page of blockchain/<day>/, counting objects and bytes and taking the newest time', async () => {
    s3.on(ListObjectsV2Command)
      .resolvesOnce({
        Contents: [
          object('blockchain/2026-11-04/', 0, '2026-11-04T01:00:00Z'),
          object('blockchain/2026-11-04/ledger-000.tar', 1_000, '2026-11-04T02:00:00Z'),
          object('blockchain/2026-11-04/ledger-001.tar', 2_000, '2026-11-04T02:40:00Z'),
        ],
        IsTruncated: true,
        NextContinuationToken: 'token-2',
      })
      .resolvesOnce({
        Contents: [object('blockchain/2026-11-04/state.db', 500, '2026-11-04T02:30:00Z')],
        IsTruncated: false,
      });

    const backup = await catalog.findBlockchainBackup({ bucket: BUCKET, day: '2026-11-04' });

    expect(backup).toEqual({
      bucket: BUCKET,
      prefix: 'blockchain/2026-11-04/',
      objects: 3,
      bytes: 3_500,
      takenAt: '2026-11-04T02:40:00.000Z',
    });
    expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input)).toEqual([
      { Bucket: BUCKET, Prefix: 'blockchain/2026-11-04/', ContinuationToken: undefined },
      { Bucket: BUCKET, Prefix: 'blockchain/2026-11-04/', ContinuationToken: 'token-2' },
    ]);
  });

  it('is undefined for a day with no objects, or only a folder marker', async () => {
    s3.on(ListObjectsV2Command).resolvesOnce({ KeyCount: 0 });
    await expect(
      catalog.findBlockchainBackup({ bucket: BUCKET, day: '2026-11-04' }),
    ).resolves.toBeUndefined();

    s3.on(ListObjectsV2Command).resolves({
      Contents: [object('blockchain/2026-11-04/', 0, '2026-11-04T01:00:00Z')],
    });
    await expect(
      catalog.findBlockchainBackup({ bucket: BUCKET, day: '2026-11-04' }),
    ).resolves.toBeUndefined();
  });

  it.each(['latest', '2026-11-4', '2026-02-30', '2026-11-04/', '../2026-11-04'])(
    'refuses %j as a day without listing anything',
    async (day) => {
      await expect(catalog.findBlockchainBackup({ bucket: BUCKET, day })).rejects.toThrow(
        InvalidBackupDateError,
      );
      expect(s3.calls()).toHaveLength(0);
    },
  );
});

describe('findBlockchainBackup of the newest day', () => {
  it('pages through the day folders, ignores names that are not days, and lists the newest', async () => {
    s3.on(ListObjectsV2Command, { Delimiter: '/' })
      .resolvesOnce({
        CommonPrefixes: [{ Prefix: 'blockchain/2026-11-03/' }, { Prefix: 'blockchain/2026-11-05/' }],
        IsTruncated: true,
        NextContinuationToken: 'more-days',
      })
      .resolvesOnce({
        CommonPrefixes: [
          { Prefix: 'blockchain/2026-11-04/' },
          { Prefix: 'blockchain/latest/' },
          { Prefix: 'blockchain/2026-99-99/' },
        ],
      });
    s3.on(ListObjectsV2Command, { Prefix: 'blockchain/2026-11-05/' }).resolves({
      Contents: [object('blockchain/2026-11-05/ledger-000.tar', 4_096, '2026-11-05T02:00:00Z')],
    });

    const backup = await catalog.findBlockchainBackup({ bucket: BUCKET });

    expect(backup).toEqual({
      bucket: BUCKET,
      prefix: 'blockchain/2026-11-05/',
      objects: 1,
      bytes: 4_096,
      takenAt: '2026-11-05T02:00:00.000Z',
    });
    expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input)).toEqual([
      { Bucket: BUCKET, Prefix: 'blockchain/', Delimiter: '/', ContinuationToken: undefined },
      { Bucket: BUCKET, Prefix: 'blockchain/', Delimiter: '/', ContinuationToken: 'more-days' },
      { Bucket: BUCKET, Prefix: 'blockchain/2026-11-05/', ContinuationToken: undefined },
    ]);
  });

  it('falls back to the previous day when the newest folder holds only its marker', async () => {
    s3.on(ListObjectsV2Command, { Delimiter: '/' }).resolves({
      CommonPrefixes: [{ Prefix: 'blockchain/2026-11-04/' }, { Prefix: 'blockchain/2026-11-05/' }],
    });
    s3.on(ListObjectsV2Command, { Prefix: 'blockchain/2026-11-05/' }).resolves({
      Contents: [object('blockchain/2026-11-05/', 0, '2026-11-05T00:00:00Z')],
    });
    s3.on(ListObjectsV2Command, { Prefix: 'blockchain/2026-11-04/' }).resolves({
      Contents: [object('blockchain/2026-11-04/ledger-000.tar', 10, '2026-11-04T02:00:00Z')],
    });

    await expect(catalog.findBlockchainBackup({ bucket: BUCKET })).resolves.toMatchObject({
      prefix: 'blockchain/2026-11-04/',
    });
  });

  it('is undefined when the bucket has no backup day at all', async () => {
    s3.on(ListObjectsV2Command).resolves({ CommonPrefixes: [{ Prefix: 'blockchain/tmp/' }] });

    await expect(catalog.findBlockchainBackup({ bucket: BUCKET })).resolves.toBeUndefined();
    expect(s3).toHaveReceivedCommandTimes(ListObjectsV2Command, 1);
  });

  it('maps SlowDown to the retryable S3ThrottledError', async () => {
    const slowDown = new S3ServiceException({
      name: 'SlowDown',
      $fault: 'server',
      $metadata: { httpStatusCode: 503 },
      message: 'Please reduce your request rate.',
    });
    s3.on(ListObjectsV2Command).rejects(slowDown);

    const failure = await catalog.findBlockchainBackup({ bucket: BUCKET }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(S3ThrottledError);
    expect(failure).toMatchObject({ name: 'S3ThrottledError', retryable: true, cause: slowDown });
  });
});

describe('readIntegrityManifest', () => {
  const manifest = {
    day: '2026-11-04',
    tables: {
      detections: {
        rows: 1_204_332,
        checksum: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      },
      engagements: { rows: 0 },
      audit_log: { checksum: 'ABCDEF0123' },
    },
  };

  it('reads manifests/<day>/integrity.json and returns it parsed', async () => {
    s3.on(GetObjectCommand).resolves({ Body: objectBody(JSON.stringify(manifest)) });

    await expect(catalog.readIntegrityManifest({ bucket: BUCKET, day: '2026-11-04' })).resolves.toEqual(
      manifest,
    );
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: BUCKET,
      Key: 'manifests/2026-11-04/integrity.json',
    });
  });

  it('is undefined when the day has no manifest', async () => {
    s3.on(GetObjectCommand).rejects(
      new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }),
    );

    await expect(
      catalog.readIntegrityManifest({ bucket: BUCKET, day: '2026-11-04' }),
    ).resolves.toBeUndefined();
  });

  it.each([
    { problem: 'not JSON', body: '{"day": "2026-11-04", "tables": ' },
    { problem: 'no tables', body: JSON.stringify({ day: '2026-11-04' }) },
    { problem: 'negative rows', body: JSON.stringify({ day: '2026-11-04', tables: { t: { rows: -1 } } }) },
    { problem: 'fractional rows', body: JSON.stringify({ day: '2026-11-04', tables: { t: { rows: 1.5 } } }) },
    { problem: 'rows as text', body: JSON.stringify({ day: '2026-11-04', tables: { t: { rows: '12' } } }) },
    {
      problem: 'a non-hex checksum',
      body: JSON.stringify({ day: '2026-11-04', tables: { t: { checksum: 'sha256:xyz' } } }),
    },
    {
      problem: 'an empty checksum',
      body: JSON.stringify({ day: '2026-11-04', tables: { t: { checksum: '' } } }),
    },
    { problem: 'another day', body: JSON.stringify({ day: '2026-11-03', tables: {} }) },
  ])('refuses a manifest with $problem as InvalidIntegrityManifestError', async ({ body }) => {
    s3.on(GetObjectCommand).resolves({ Body: objectBody(body) });

    const failure = await catalog
      .readIntegrityManifest({ bucket: BUCKET, day: '2026-11-04' })
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(InvalidIntegrityManifestError);
    expect(failure).toMatchObject({
      name: 'InvalidIntegrityManifestError',
      message: expect.stringContaining(`s3://${BUCKET}/manifests/2026-11-04/integrity.json`),
    });
  });

  it('refuses a malformed day before reading anything', async () => {
    await expect(catalog.readIntegrityManifest({ bucket: BUCKET, day: '20261104' })).rejects.toThrow(
      InvalidBackupDateError,
    );
    expect(s3.calls()).toHaveLength(0);
  });
});
