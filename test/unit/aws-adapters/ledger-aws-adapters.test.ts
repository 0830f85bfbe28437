import { generateKeyPairSync, sign } from 'node:crypto';
import { CloudWatchClient, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchAlarmTags } from '../../../lambdas/adapters/aws/cloudwatch-alarm-tags';
import { KmsNoteSigner, SigningKeyMismatchError } from '../../../lambdas/adapters/aws/kms-note-signer';
import { S3CheckpointArchive } from '../../../lambdas/adapters/aws/s3-checkpoint-archive';
import { noteVerifier, openCheckpoint, signCheckpoint } from '../../../lambdas/core/ledger/signed-note';

const kms = mockClient(KMSClient);
const s3 = mockClient(S3Client);
const cloudWatch = mockClient(CloudWatchClient);
const KEY_ARN = 'arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ORIGIN = 'phoenixrooivalk.mil/aor/audit-ledger';

beforeEach(() => {
  kms.reset();
  s3.reset();
  cloudWatch.reset();
});

describe('KmsNoteSigner', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });

  it('signs checkpoints with KMS (RAW message, ECDSA_SHA_256) so they verify with the public key', async () => {
    kms
      .on(GetPublicKeyCommand)
      .resolves({ KeySpec: 'ECC_NIST_P256', SigningAlgorithms: ['ECDSA_SHA_256'], PublicKey: spki });
    kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => ({
      Signature: sign('sha256', input.Message, { key: privateKey, dsaEncoding: 'der' }),
    }));
    const signer = await KmsNoteSigner.create(new KMSClient({}), KEY_ARN, ORIGIN);
    const note = await signCheckpoint(
      { origin: ORIGIN, treeSize: 3, rootHash: new Uint8Array(32).fill(7) },
      signer,
    );
    expect(
      openCheckpoint(note, ORIGIN, [noteVerifier(ORIGIN, new Uint8Array(spki))]).checkpoint.treeSize,
    ).toBe(3);
    expect(kms).toHaveReceivedCommandWith(SignCommand, {
      KeyId: KEY_ARN,
      MessageType: 'RAW',
      SigningAlgorithm: 'ECDSA_SHA_256',
    });
    expect(kms).toHaveReceivedCommandTimes(SignCommand, 1);
  });

  it('refuses a key that is not ECC_NIST_P256 for signing', async () => {
    kms
      .on(GetPublicKeyCommand)
      .resolves({ KeySpec: 'RSA_2048', SigningAlgorithms: ['RSASSA_PSS_SHA_256'], PublicKey: spki });
    await expect(KmsNoteSigner.create(new KMSClient({}), KEY_ARN, ORIGIN)).rejects.toThrow(
      SigningKeyMismatchError,
    );
  });
});

describe('S3CheckpointArchive', () => {
  const archive = () => new S3CheckpointArchive(new S3Client({}), 'aor-checkpoints');
  const body = (text: string) => ({ transformToString: async () => text }) as never;

  it('writes each checkpoint once under checkpoints/<tree size>, with the SHA-256 checksum Object Lock requires', async () => {
    s3.on(PutObjectCommand).resolves({});
    const archived = await archive().putCheckpoint({ treeSize: 42, note: 'note text\n' });
    expect(archived).toEqual({ treeSize: 42, note: 'note text\n' });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'aor-checkpoints',
      Key: 'checkpoints/000000000042.note',
      Body: 'note text\n',
      ChecksumAlgorithm: 'SHA256',
      IfNoneMatch: '*',
    });
  });

  it('returns the first version already archived under the key instead of writing over it', async () => {
    s3.on(PutObjectCommand).rejects(
      Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
        name: 'PreconditionFailed',
        $metadata: { httpStatusCode: 412 },
      }),
    );
    s3.on(ListObjectVersionsCommand).resolves({
      // Newest first, as S3 lists them: a later version was added after a delete marker.
      Versions: [
        {
          Key: 'checkpoints/000000000042.note',
          VersionId: 'v2',
          LastModified: new Date('2026-11-24T00:00:00Z'),
        },
        {
          Key: 'checkpoints/000000000042.note',
          VersionId: 'v1',
          LastModified: new Date('2026-11-23T00:00:00Z'),
        },
      ],
    });
    s3.on(GetObjectCommand, { VersionId: 'v1' }).resolves({ Body: body('first\n') });
    s3.on(GetObjectCommand, { VersionId: 'v2' }).resolves({ Body: body('later\n') });
    expect(await archive().putCheckpoint({ treeSize: 42, note: 'mine\n' })).toEqual({
      treeSize: 42,
      note: 'first\n',
    });
  });

  it('reads every checkpoint and cosignature by its first version, across pages', async () => {
    s3.on(ListObjectVersionsCommand, { Prefix: 'checkpoints/', KeyMarker: undefined })
      .resolves({
        Versions: [{ Key: 'checkpoints/000000000001.note', VersionId: 'a', LastModified: new Date(1) }],
        IsTruncated: true,
        NextKeyMarker: 'checkpoints/000000000001.note',
        NextVersionIdMarker: 'a',
      })
      .on(ListObjectVersionsCommand, { Prefix: 'checkpoints/', KeyMarker: 'checkpoints/000000000001.note' })
      .resolves({
        Versions: [
          { Key: 'checkpoints/000000000009.note', VersionId: 'c', LastModified: new Date(3) },
          { Key: 'checkpoints/000000000009.note', VersionId: 'b', LastModified: new Date(2) },
          { Key: 'checkpoints/stray.txt', VersionId: 'x', LastModified: new Date(2) },
        ],
      });
    s3.on(ListObjectVersionsCommand, { Prefix: 'cosigned/' }).resolves({
      Versions: [
        {
          Key: `cosigned/${encodeURIComponent('x/aor/audit-ledger/us-gov-east-1')}/000000000005.note`,
          VersionId: 'd',
          LastModified: new Date(1),
        },
      ],
    });
    for (const id of ['a', 'b', 'c', 'd', 'x']) {
      s3.on(GetObjectCommand, { VersionId: id }).resolves({ Body: body(`note ${id}\n`) });
    }
    expect(await archive().readCheckpoints()).toEqual([
      { treeSize: 1, note: 'note a\n' },
      { treeSize: 9, note: 'note b\n' },
    ]);
    expect(await archive().readCosigned()).toEqual([
      { origin: 'x/aor/audit-ledger/us-gov-east-1', treeSize: 5, note: 'note d\n' },
    ]);
  });
});

describe('CloudWatchAlarmTags', () => {
  it('reads the alarm tags as a map', async () => {
    cloudWatch.on(ListTagsForResourceCommand).resolves({
      Tags: [
        { Key: 'aor:playbook', Value: 'high_cpu_utilization' },
        { Key: 'team', Value: 'ops' },
      ],
    });
    const arn = 'arn:aws-us-gov:cloudwatch:us-gov-west-1:111122223333:alarm:phoenix-rooivalk-api-cpu';
    expect(await new CloudWatchAlarmTags(new CloudWatchClient({})).tags(arn)).toEqual({
      'aor:playbook': 'high_cpu_utilization',
      team: 'ops',
    });
    expect(cloudWatch).toHaveReceivedCommandWith(ListTagsForResourceCommand, { ResourceARN: arn });
  });
});
