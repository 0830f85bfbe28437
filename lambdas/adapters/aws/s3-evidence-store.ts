import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EvidenceStore, StoredEvidence } from '../../core/operations/ports';
import { hasAwsErrorName, httpStatusCode } from './aws-errors';

/** S3's limit on a key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

export class InvalidEvidenceKeyError extends Error {
  override name = 'InvalidEvidenceKeyError';
}

/** Evidence is written once: something is already stored under this key, and it stays as it is. */
export class EvidenceAlreadyExistsError extends Error {
  override name = 'EvidenceAlreadyExistsError';
}

/** Another write to the same key was in flight; S3 asks for the upload to be retried. */
export class EvidenceWriteConflictError extends Error {
  override name = 'EvidenceWriteConflictError';
  readonly retryable = true;
}

/**
 * Evidence keys are relative paths of plain segments. `.` and `..` segments, empty segments and leading
 * slashes are refused: S3 would store them literally, but every tool that maps keys onto a file system (an
 * export, the local adapter, `aws s3 sync`) would resolve them somewhere else.
 */
const KEY_RULES: readonly (readonly [problem: string, breaks: (key: string) => boolean])[] = [
  ['is empty', (key) => key === ''],
  ['starts with /', (key) => key.startsWith('/')],
  [
    'has an empty, . or .. segment',
    (key) => key.split('/').some((segment) => ['', '.', '..'].includes(segment)),
  ],
  ['contains a control character', (key) => /\p{Cc}/u.test(key)],
  [`is longer than ${MAX_KEY_BYTES} bytes`, (key) => Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES],
];

export function assertEvidenceKey(key: string): void {
  const broken = KEY_RULES.find(([, breaks]) => breaks(key));
  if (broken) throw new InvalidEvidenceKeyError(`evidence key ${JSON.stringify(key)} ${broken[0]}`);
}

export class S3EvidenceStore implements EvidenceStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucketName: string,
  ) {}

  async put(key: string, body: Uint8Array, contentType: string): Promise<StoredEvidence> {
    assertEvidenceKey(key);
    const digest = createHash('sha256').update(body).digest();
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucketName,
          Key: key,
          Body: body,
          ContentType: contentType,
          // S3 recomputes the digest and rejects the upload on a mismatch, so the hash the ledger records
          // is verified to be that of the stored bytes.
          ChecksumSHA256: digest.toString('base64'),
          IfNoneMatch: '*',
        }),
      );
    } catch (error) {
      const uri = this.uri(key);
      if (httpStatusCode(error) === 412 || hasAwsErrorName(error, ['PreconditionFailed'])) {
        throw new EvidenceAlreadyExistsError(`${uri} already exists`, { cause: error });
      }
      if (hasAwsErrorName(error, ['ConditionalRequestConflict'])) {
        throw new EvidenceWriteConflictError(`a concurrent write to ${uri} is in progress`, { cause: error });
      }
      throw error;
    }
    return { uri: this.uri(key), sha256: digest.toString('hex'), bytes: body.byteLength };
  }

  private uri(key: string): string {
    return `s3://${this.bucketName}/${key}`;
  }
}
