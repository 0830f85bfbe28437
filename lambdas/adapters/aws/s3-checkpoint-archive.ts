import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CheckpointArchive, StoredCheckpoint } from '../../core/ledger/ports';

/** Object key of a checkpoint: sorted by tree size, so a listing is the ledger's history. */
export function checkpointObjectKey(treeSize: number): string {
  return `checkpoints/${treeSize.toString().padStart(12, '0')}.note`;
}

/**
 * Writes each signed checkpoint to the checkpoint bucket, whose default Object Lock retention in
 * compliance mode makes it impossible for anyone, root included, to alter or delete it before the
 * retention ends. That locked history is what a later export is checked against for rollbacks.
 */
export class S3CheckpointArchive implements CheckpointArchive {
  constructor(
    private readonly client: S3Client,
    private readonly bucketName: string,
  ) {}

  async put(checkpoint: StoredCheckpoint): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucketName,
        Key: checkpointObjectKey(checkpoint.treeSize),
        Body: checkpoint.note,
        ContentType: 'text/plain; charset=utf-8',
        // Object Lock buckets require an integrity checksum on every put.
        ChecksumAlgorithm: 'SHA256',
      }),
    );
  }
}
