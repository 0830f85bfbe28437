import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LedgerAppender, SequencedLedger } from '../../core/ledger/ledger';
import { DynamoDbLedgerStore } from './dynamodb-ledger-store';
import { requiredEnv } from './environment';
import { KmsNoteSigner } from './kms-note-signer';
import { S3CheckpointArchive } from './s3-checkpoint-archive';

/**
 * The ledger's table lives in the primary region; a writer in the DR region names that region
 * (LEDGER_REGION) and its DynamoDB client goes there.
 */
function ledgerStore(): DynamoDbLedgerStore {
  const region = process.env.LEDGER_REGION ?? process.env.AWS_REGION;
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return new DynamoDbLedgerStore(client, requiredEnv('LEDGER_TABLE_NAME'));
}

/** What a workflow task needs to record its actions: append only. */
export function awsLedgerAppender(): LedgerAppender {
  return new LedgerAppender({ store: ledgerStore() });
}

/** The sequencer's ledger: KMS signing and the Object-Locked checkpoint archive. */
export async function awsSequencedLedger(): Promise<SequencedLedger> {
  const origin = requiredEnv('LEDGER_ORIGIN');
  const signer = await KmsNoteSigner.create(new KMSClient({}), requiredEnv('LEDGER_SIGNING_KEY_ID'), origin);
  return new SequencedLedger({
    store: ledgerStore(),
    signer,
    origin,
    archive: new S3CheckpointArchive(new S3Client({}), requiredEnv('LEDGER_CHECKPOINT_BUCKET')),
  });
}
