import { createPublicKey } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { consistencyProof, LedgerAppender, SequencedLedger } from '../../core/ledger/ledger';
import {
  LEDGER_SIGNING_KEY_ALIAS,
  LEDGER_TABLE_NAME,
  ledgerOrigin,
  SEQUENCER_ENVIRONMENT,
  WRITER_ENVIRONMENT,
  witnessName,
} from '../../core/ledger/ledger-contract';
import { signerNamed, verifierKey } from '../../core/ledger/signed-note';
import { LedgerWitness, type WitnessedLog } from '../../core/ledger/witness';
import { DynamoDbLedgerStore } from './dynamodb-ledger-store';
import { MissingEnvironmentError, requiredEnv } from './environment';
import { KmsNoteSigner } from './kms-note-signer';
import { S3CheckpointArchive } from './s3-checkpoint-archive';

/** A region's ledger table, read and written with the caller's credentials. */
export function dynamoDbLedgerStore(region: string | undefined, tableName: string): DynamoDbLedgerStore {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return new DynamoDbLedgerStore(client, tableName);
}

/** What a workflow task needs to record its actions: append only, under its writer's namespace. */
export function awsLedgerAppender(): LedgerAppender {
  return new LedgerAppender({
    store: dynamoDbLedgerStore(process.env.AWS_REGION, requiredEnv(WRITER_ENVIRONMENT.tableName)),
    writer: requiredEnv(WRITER_ENVIRONMENT.writer),
  });
}

const workflowWritersSchema = z.record(z.string().min(1), z.string().startsWith('arn:'));

export interface AwsSequencer {
  readonly ledger: SequencedLedger;
  readonly witness: LedgerWitness;
  /** The other region's log, read across regions; its failures are the witness's to report. */
  readonly peer: WitnessedLog;
}

/** The sequencer: KMS signing, the Object-Locked archive, and a witness of the other region's log. */
export async function awsSequencer(): Promise<AwsSequencer> {
  const origin = requiredEnv(SEQUENCER_ENVIRONMENT.origin);
  const signer = await KmsNoteSigner.create(
    new KMSClient({}),
    requiredEnv(SEQUENCER_ENVIRONMENT.signingKeyId),
    origin,
  );
  const store = dynamoDbLedgerStore(process.env.AWS_REGION, requiredEnv(SEQUENCER_ENVIRONMENT.tableName));
  const archive = new S3CheckpointArchive(new S3Client({}), requiredEnv(SEQUENCER_ENVIRONMENT.archiveBucket));
  const writers = workflowWritersSchema.safeParse(
    JSON.parse(requiredEnv(SEQUENCER_ENVIRONMENT.workflowWriters)),
  );
  if (!writers.success) {
    throw new MissingEnvironmentError(
      `${SEQUENCER_ENVIRONMENT.workflowWriters} is not a map of writer to execution ARN prefix`,
    );
  }
  const ledger = new SequencedLedger({
    store,
    signer,
    origin,
    archive,
    writers: { workflows: writers.data },
  });
  const peerRegion = requiredEnv(SEQUENCER_ENVIRONMENT.peerRegion);
  return {
    ledger,
    witness: new LedgerWitness({
      store,
      archive,
      signer: signerNamed(signer, witnessName(origin)),
      trail: ledger.ownRecords,
    }),
    peer: peerLog(peerRegion),
  };
}

/**
 * The other region's log as its witness reads it: the same table name and key alias there, read
 * with this region's credentials (the peer's ledger grants its witness nothing but reads).
 */
export function peerLog(region: string): WitnessedLog {
  const origin = ledgerOrigin(region);
  const store = dynamoDbLedgerStore(region, LEDGER_TABLE_NAME);
  const kms = new KMSClient({ region });
  return {
    origin,
    latestCheckpoint: () => store.latestCheckpoint(),
    consistencyProof: (oldSize, newSize) => consistencyProof(store, oldSize, newSize),
    verifierKey: async () => {
      const key = await kms.send(new GetPublicKeyCommand({ KeyId: LEDGER_SIGNING_KEY_ALIAS }));
      if (!key.PublicKey)
        throw new MissingEnvironmentError(
          `KMS in ${region} returned no public key for ${LEDGER_SIGNING_KEY_ALIAS}`,
        );
      return verifierKey(origin, publicKeyPem(key.PublicKey));
    },
  };
}

export function publicKeyPem(spkiDer: Uint8Array): string {
  return createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}
