import * as path from 'node:path';
import { type LocalLedgers, openLocalLedgers } from './local-ledgers';
import type { AorConfig } from '../../lib/config';
import { type EmbeddedDynamoDb, startEmbeddedDynamoDb } from '../dynamodb/embedded-dynamodb';
import { localAorConfig, localLedgerOptions } from './local-config';

export const LOCAL_INCIDENTS_TABLE = 'aor-incidents';

/** What the drills and `aor incident` share on this machine: DynamoDB (in process) and the ledgers. */
export interface LocalState {
  readonly dynamo: EmbeddedDynamoDb;
  /** One ledger per region, as deployed: incident response records in the primary's, recovery in the DR region's. */
  readonly ledgers: LocalLedgers;
  readonly incidentsTable: string;
  close(): Promise<void>;
}

/**
 * Opens the local state under `directory` (`.aor/` by default): DynamoDB persisted on disk so
 * `aor incident list` sees what the drills opened, and the signed local ledgers. With
 * `persist: false` DynamoDB lives in memory (tests), the ledgers still under `directory`.
 */
export async function openLocalState(
  directory: string,
  options: { persist?: boolean; config?: AorConfig } = {},
): Promise<LocalState> {
  const dynamo = await startEmbeddedDynamoDb(
    options.persist === false ? {} : { path: path.join(directory, 'dynamodb') },
  );
  await dynamo.ensureTable(LOCAL_INCIDENTS_TABLE);
  return {
    dynamo,
    ledgers: openLocalLedgers(directory, localLedgerOptions(options.config ?? localAorConfig())),
    incidentsTable: LOCAL_INCIDENTS_TABLE,
    close: () => dynamo.close(),
  };
}
