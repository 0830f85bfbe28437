import { createHash } from 'node:crypto';
import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  EvidenceAlreadyExistsError,
  EvidenceWriteConflictError,
  InvalidEvidenceKeyError,
  S3EvidenceStore,
} from '../../../lambdas/adapters/aws/s3-evidence-store';

const BUCKET = 'aor-evidence-123456789012-us-gov-west-1';
const s3 = mockClient(S3Client);
const store = new S3EvidenceStore(new S3Client({ region: 'us-gov-west-1' }), BUCKET);
const body = new TextEncoder().encode('abc');

function s3Error(name: string, httpStatusCode: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode }, message: name });
}

beforeEach(() => {
  s3.reset();
  s3.on(PutObjectCommand).resolves({ ETag: '"900150983cd24fb0d6963f7d28e17f72"' });
});

describe('S3EvidenceStore.put', () => {
  it('writes once, with a SHA-256 checksum S3 verifies, and returns the same digest in hex', async () => {
    const stored = await store.put('incidents/INC-20261105-0001/pods.json', body, 'application/json');

    // FIPS 180-2 test vector for "abc".
    const hex = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(stored).toEqual({
      uri: `s3://${BUCKET}/incidents/INC-20261105-0001/pods.json`,
      sha256: hex,
      bytes: 3,
    });
    expect(s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input)).toEqual([
      {
        Bucket: BUCKET,
        Key: 'incidents/INC-20261105-0001/pods.json',
        Body: body,
        ContentType: 'application/json',
        ChecksumSHA256: 'ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=',
        IfNoneMatch: '*',
      },
    ]);
    expect(Buffer.from(hex, 'hex').toString('base64')).toBe('ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=');
  });

  it('hashes exactly the bytes of a view into a larger buffer', async () => {
    const backing = new TextEncoder().encode('xxabcxx');
    const view = backing.subarray(2, 5);

    const stored = await store.put('evidence/view.bin', view, 'application/octet-stream');

    expect(stored.sha256).toBe(createHash('sha256').update('abc').digest('hex'));
    expect(stored.bytes).toBe(3);
  });

  it('refuses to overwrite: an existing key becomes EvidenceAlreadyExistsError', async () => {
    const preconditionFailed = s3Error('PreconditionFailed', 412);
    s3.on(PutObjectCommand).rejects(preconditionFailed);

    const failure = await store.put('incidents/INC-1/pods.json', body, 'application/json').catch((e) => e);

    expect(failure).toBeInstanceOf(EvidenceAlreadyExistsError);
    expect(failure.name).toBe('EvidenceAlreadyExistsError');
    expect(failure.message).toContain(`s3://${BUCKET}/incidents/INC-1/pods.json`);
    expect(failure.cause).toBe(preconditionFailed);
  });

  it('recognises the 412 by status even when the SDK names it differently', async () => {
    s3.on(PutObjectCommand).rejects(s3Error('Unknown', 412));

    await expect(store.put('incidents/INC-1/pods.json', body, 'application/json')).rejects.toThrow(
      EvidenceAlreadyExistsError,
    );
  });

  it('maps a concurrent conditional write (409) to a retryable EvidenceWriteConflictError', async () => {
    s3.on(PutObjectCommand).rejects(s3Error('ConditionalRequestConflict', 409));

    const failure = await store.put('incidents/INC-1/pods.json', body, 'application/json').catch((e) => e);

    expect(failure).toBeInstanceOf(EvidenceWriteConflictError);
    expect(failure.retryable).toBe(true);
  });

  it('lets other S3 errors through unchanged', async () => {
    const denied = s3Error('AccessDenied', 403);
    s3.on(PutObjectCommand).rejects(denied);

    await expect(store.put('incidents/INC-1/pods.json', body, 'application/json')).rejects.toBe(denied);
  });

  it.each([
    '',
    '/incidents/INC-1/pods.json',
    '../outside.json',
    'incidents/../../outside.json',
    'incidents/INC-1/..',
    'incidents/./pods.json',
    'incidents//pods.json',
    'incidents/INC-1/',
    'incidents/INC-1\n/pods.json',
    `incidents/${'x'.repeat(1020)}`,
  ])('refuses key %j without calling S3', async (key) => {
    await expect(store.put(key, body, 'application/json')).rejects.toThrow(InvalidEvidenceKeyError);
    expect(s3).not.toHaveReceivedAnyCommand();
  });

  it('accepts dots inside a segment', async () => {
    await expect(
      store.put('incidents/INC-1/report..v2.json', body, 'application/json'),
    ).resolves.toMatchObject({
      uri: `s3://${BUCKET}/incidents/INC-1/report..v2.json`,
    });
  });
});
