import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, expect, it } from 'vitest';
import { DynamoDbRecoveryRunStore } from '../../../lambdas/adapters/aws/dynamodb-recovery-run-store';
import { RUNS_SUBJECT_INDEX } from '../../../lambdas/core/recovery/recovery-contract';
import { createAorTable } from '../../../local/dynamodb/aor-tables';
import { clientConfig, DR_REGION, describeOverTheWire, uniqueName } from '../support/aws-backend';

/** The DR runs table over the wire: its one-run lock is conditional writes the emulator evaluates. */

describeOverTheWire('the DR run store over the wire', () => {
  let client: DynamoDBClient;
  beforeAll(() => {
    client = new DynamoDBClient(clientConfig(DR_REGION));
  });

  async function store() {
    const table = uniqueName('aor-recovery-runs');
    await createAorTable(client, table, [RUNS_SUBJECT_INDEX]);
    return new DynamoDbRecoveryRunStore(
      DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      table,
    );
  }

  const hold = (runId: string, execution: string, at: string, minutes = 180) => ({
    runId,
    execution,
    acquiredAt: at,
    expiresAt: new Date(Date.parse(at) + minutes * 60_000).toISOString(),
  });

  it('takes the lock once, refuses a second run, frees it only for its holder, and lets an expired lock go', async () => {
    const runs = await store();
    const t0 = '2026-11-23T04:00:00.000Z';
    expect(await runs.acquireLock(hold('DR-1', 'exec-1', t0), new Date(t0))).toEqual({ acquired: true });
    expect(await runs.acquireLock(hold('DR-2', 'exec-2', t0), new Date(t0))).toMatchObject({
      acquired: false,
      holder: { runId: 'DR-1', execution: 'exec-1' },
    });
    await runs.releaseLock('DR-2');
    await runs.releaseLockOf('exec-2');
    expect(await runs.acquireLock(hold('DR-2', 'exec-2', t0), new Date(t0))).toMatchObject({
      acquired: false,
    });
    await runs.releaseLockOf('exec-1');
    expect(await runs.acquireLock(hold('DR-2', 'exec-2', t0), new Date(t0))).toEqual({ acquired: true });
    const later = '2026-11-23T07:01:00.000Z';
    expect(await runs.acquireLock(hold('DR-3', 'exec-3', later), new Date(later))).toEqual({
      acquired: true,
    });
  });

  it('finds start requests and approval decisions through the subject index, each person’s once', async () => {
    const runs = await store();
    const at = '2026-11-23T04:00:00.000Z';
    await runs.putStartRequest({
      executionName: 'exec-1',
      principalId: 'AROA1:alice',
      principalArn: 'arn:aws-us-gov:sts::111122223333:assumed-role/ops/alice',
      at,
    });
    await runs.putApprovalDecision({
      runId: 'DR-1',
      principalId: 'AROA1:bob',
      principalArn: 'arn:aws-us-gov:sts::111122223333:assumed-role/ops/bob',
      decision: 'approve',
      reason: 'site validated',
      at,
    });
    expect(await runs.startRequests('exec-1')).toMatchObject([{ principalId: 'AROA1:alice' }]);
    expect(await runs.startRequests('exec-2')).toEqual([]);
    expect(await runs.approvalDecisions('DR-1')).toMatchObject([
      { principalId: 'AROA1:bob', decision: 'approve' },
    ]);
    expect(await runs.putApprovalRequest('DR-1', at)).toBe(at);
    expect(await runs.putApprovalRequest('DR-1', '2026-11-23T05:00:00.000Z')).toBe(at);
  });
});
