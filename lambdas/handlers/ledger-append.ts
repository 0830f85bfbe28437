import * as z from 'zod';
import { awsLedgerAppender } from '../adapters/aws/aws-ledger';
import { auditRecordSchema } from '../core/ledger/audit-record';
import type { AuditTrail } from '../core/ledger/ledger';
import { logger, once, taskHandler } from '../shared/task-handler';

export const ledgerAppendInput = z.strictObject({
  idempotencyKey: z.string().min(1).max(512),
  record: auditRecordSchema,
});

/** Appends one audit record and returns its receipt; any workflow can call it as a Task. */
export function createLedgerAppendHandler(trail: () => AuditTrail) {
  return taskHandler(ledgerAppendInput, trail, async ({ idempotencyKey, record }, ledger) => {
    const receipt = await ledger.append(record, idempotencyKey);
    logger.info('audit record appended', { receipt });
    return receipt;
  });
}

export const handler = createLedgerAppendHandler(once(awsLedgerAppender));
