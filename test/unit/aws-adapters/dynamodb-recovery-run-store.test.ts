import { describe, expect, it } from 'vitest';
import { DynamoDbRecoveryRunStore } from '../../../lambdas/adapters/aws/dynamodb-recovery-run-store';
import type { AuditRecord } from '../../../lambdas/core/ledger/audit-record';
import { useEmbeddedDynamoDb } from '../../support/embedded-dynamodb';

const dynamo = useEmbeddedDynamoDb();

function owed(runId: string, occurredAt: string) {
  const record: AuditRecord = {
    action: 'recovery.validate-site',
    target: { type: 'recovery-run', id: runId },
    actor: { type: 'workflow', id: 'aor-disaster-recovery' },
    occurredAt,
    outputs: { durationMs: 900, account: '111122223333' },
    outcome: 'succeeded',
    runId,
  };
  return {
    record,
    step: {
      step: 'validate-site',
      startedAt: occurredAt,
      finishedAt: occurredAt,
      status: 'succeeded' as const,
    },
  };
}

async function store() {
  return new DynamoDbRecoveryRunStore(dynamo.client().documentClient, await dynamo.freshTable('runs'));
}

describe('DynamoDbRecoveryRunStore: what a run owes the ledger, written once', () => {
  it('keeps the first entry stored under a key and returns it to every later put, per run', async () => {
    const runs = await store();
    const first = owed('DR-1', '2026-11-23T04:00:01.000Z');
    expect(await runs.putRecordOnce('DR-1', 'DR-1/recovery.validate-site', first)).toEqual(first);
    expect(
      await runs.putRecordOnce(
        'DR-1',
        'DR-1/recovery.validate-site',
        owed('DR-1', '2026-11-23T04:00:06.000Z'),
      ),
    ).toEqual(first);
    const other = owed('DR-2', '2026-11-23T05:00:00.000Z');
    expect(await runs.putRecordOnce('DR-2', 'DR-1/recovery.validate-site', other)).toEqual(other);
  });

  it('tells whose the lock is: the execution that took it, when it says', async () => {
    const runs = await store();
    const now = new Date('2026-11-23T04:00:00.000Z');
    const lock = { runId: 'DR-1', acquiredAt: now.toISOString(), expiresAt: '2026-11-23T07:00:00.000Z' };
    await runs.acquireLock(
      { ...lock, execution: 'arn:aws-us-gov:states:…:execution:aor-disaster-recovery:a' },
      now,
    );
    expect(await runs.acquireLock({ ...lock, runId: 'DR-2' }, now)).toEqual({
      acquired: false,
      holder: { ...lock, execution: 'arn:aws-us-gov:states:…:execution:aor-disaster-recovery:a' },
    });

    const older = await store();
    await older.acquireLock(lock, now);
    expect(await older.acquireLock({ ...lock, runId: 'DR-2' }, now)).toEqual({
      acquired: false,
      holder: lock,
    });
  });
});
