import * as path from 'node:path';
import { type LocalLedger, openLocalLedger } from '../../lambdas/adapters/local/local-ledger';
import { type EmbeddedDynamoDb, startEmbeddedDynamoDb } from '../dynamodb/embedded-dynamodb';

export const LOCAL_INCIDENTS_TABLE = 'aor-incidents';

/** What the drills and `aor incident` share on this machine: DynamoDB (in process) and the ledger. */
export interface LocalState {
  readonly dynamo: EmbeddedDynamoDb;
  readonly ledger: LocalLedger;
  readonly incidentsTable: string;
  close(): Promise<void>;
}

/**
 * Opens the local state under `directory` (`.aor/` by default): DynamoDB persisted on disk so
 * `aor incident list` sees what the drills opened, and the signed local ledger. With
 * `persist: false` DynamoDB lives in memory (tests), the ledger still under `directory`.
 */
export async function openLocalState(
  directory: string,
  options: { persist?: boolean } = {},
): Promise<LocalState> {
  const dynamo = await startEmbeddedDynamoDb(
    options.persist === false ? {} : { path: path.join(directory, 'dynamodb') },
  );
  await dynamo.ensureTable(LOCAL_INCIDENTS_TABLE);
  return {
    dynamo,
    ledger: openLocalLedger(directory),
    incidentsTable: LOCAL_INCIDENTS_TABLE,
    close: () => dynamo.close(),
  };
}
