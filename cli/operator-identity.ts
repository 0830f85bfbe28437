import * as os from 'node:os';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { dynamoDbLedgerStore } from '../lambdas/adapters/aws/aws-ledger';
import type { AuditRecord } from '../lambdas/core/ledger/audit-record';
import { LedgerAppender } from '../lambdas/core/ledger/ledger';
import {
  LEDGER_TABLE_NAME,
  localOperatorWriter,
  principalWriter,
} from '../lambdas/core/ledger/ledger-contract';

export class UnknownCallerError extends Error {
  override name = 'UnknownCallerError';
}

/** Who runs the command, as the ledger records them and the namespace IAM lets them write. */
export interface Operator {
  readonly actor: AuditRecord['actor'];
  readonly writer: string;
}

/**
 * The caller's IAM identity: the ledger records their ARN and their `aws:userid`, and their records
 * go under `principal/<userid>`, the one namespace the table's policy lets them write, so the
 * sequencer can check that each record names the principal that wrote it.
 */
export async function deployedOperator(region: string): Promise<Operator> {
  const identity = await new STSClient({ region }).send(new GetCallerIdentityCommand({}));
  if (!identity.Arn || !identity.UserId) throw new UnknownCallerError('STS did not say who the caller is');
  return {
    actor: { type: 'iam-principal', id: identity.Arn, principalId: identity.UserId },
    writer: principalWriter(identity.UserId),
  };
}

/** The person at this machine, for the local drills' state (there is no IAM here to name them). */
export function localOperator(): Operator {
  const name = `${os.userInfo().username}@${os.hostname()}`;
  return { actor: { type: 'operator', id: `operator:${name}` }, writer: localOperatorWriter(name) };
}

/** The region's deployed ledger, appended to as the operator. */
export function deployedLedgerAppender(region: string, operator: Operator): LedgerAppender {
  return new LedgerAppender({
    store: dynamoDbLedgerStore(region, LEDGER_TABLE_NAME),
    writer: operator.writer,
  });
}
