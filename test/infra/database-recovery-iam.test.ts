import { runSimulation } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, it } from 'vitest';
import { RECOVERY_POINT_TAG, RECOVERY_PROMOTED_TAG } from '../../lambdas/core/recovery/ports';
import { RECOVERY_RUN_TAG } from '../../lambdas/core/recovery/recovery';
import { synthAor } from '../support/app';
import { PARTITION, type PolicyDocument, SynthesizedPolicies } from '../support/iam-policies';

/**
 * The DR task's RDS grants evaluated by an offline IAM evaluator against the requests the RDS
 * recovery adapter makes (and those a compromised task might try): creates only of the configured
 * names and only tagged with a run, tags only on creation except the promoted mark, deletes only of
 * what carries a run tag, and a promoted database out of every run's reach. RDS authorizes a create's
 * tags as `rds:AddTagsToResource` on the new database with the request's tags; a database that does
 * not exist yet has no resource tags.
 */

const ACCOUNT = '111122223333';
const REGION = 'us-gov-east-1';
const RUN = 'DR-20261102T140000Z-a1b2c3';
const rds = (resource: string) => `arn:${PARTITION}:rds:${REGION}:${ACCOUNT}:${resource}`;
const TARGET = rds('db:phoenix-rooivalk-dr');
const TARGET_DRILL = rds('db:phoenix-rooivalk-dr-drill');
const STANDBY = rds('db:phoenix-rooivalk-dr-replica');
const STANDBY_DRILL = rds('db:phoenix-rooivalk-dr-replica-drill');

type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';
type Context = Record<string, string | string[]>;

let task: { arn: string; identity: { name: string; policy: PolicyDocument }[] };

beforeAll(() => {
  const synthesized = synthAor();
  const policies = new SynthesizedPolicies(synthesized);
  const role = synthesized.stacks.disasterRecovery.workflow.step.role;
  task = { arn: policies.roleArn(role), identity: policies.identityPolicies(role) };
});

async function decide(action: string, resource: string, context: Context = {}): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal: task.arn,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: { 'aws:PrincipalArn': task.arn, ...context },
      },
      identityPolicies: task.identity,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType !== 'single') throw new Error(`simulation failed: ${JSON.stringify(result)}`);
  expect(result.result.ignoredContextKeys ?? [], `${action} ignored context keys`).toEqual([]);
  return result.overallResult as Decision;
}

/** A create's tags, as RDS authorizes them: in the request, none on the database yet. */
function requestTags(tags: Record<string, string>): Context {
  return {
    ...Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:RequestTag/${key}`, value])),
    'aws:TagKeys': Object.keys(tags),
  };
}

function resourceTags(tags: Record<string, string>): Context {
  return Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:ResourceTag/${key}`, value]));
}

const runTags = requestTags({ [RECOVERY_RUN_TAG]: RUN, 'aor:dry-run': 'false' });

describe('what the DR task may create', () => {
  it.each([
    ['rds:RestoreDBInstanceFromDBSnapshot', TARGET],
    ['rds:RestoreDBInstanceFromDBSnapshot', TARGET_DRILL],
    ['rds:CreateDBInstanceReadReplica', STANDBY_DRILL],
    ['rds:AddTagsToResource', TARGET],
    ['rds:AddTagsToResource', STANDBY_DRILL],
  ])('%s of %s, tagged with the run', async (action, resource) => {
    expect(await decide(action, resource, runTags)).toBe('Allowed');
  });

  it.each([
    ['rds:RestoreDBInstanceFromDBSnapshot', rds('snapshot:phoenix-rooivalk-production-2026-11-02')],
    ['rds:RestoreDBInstanceFromDBSnapshot', rds('subgrp:phoenix-rooivalk-dr-db-subnet-group')],
    ['rds:CreateDBInstanceReadReplica', STANDBY],
  ])('%s from %s, for a create tagged with the run', async (action, resource) => {
    expect(await decide(action, resource, runTags)).toBe('Allowed');
    expect(await decide(action, resource)).toBe('ImplicitlyDenied');
  });

  it('nothing untagged, nothing but the configured names (the old `phoenix-rooivalk-dr*` grant is gone)', async () => {
    expect(await decide('rds:RestoreDBInstanceFromDBSnapshot', TARGET)).toBe('ImplicitlyDenied');
    expect(
      await decide('rds:RestoreDBInstanceFromDBSnapshot', TARGET, requestTags({ team: 'platform' })),
    ).toBe('ImplicitlyDenied');
    for (const name of [
      'phoenix-rooivalk-dr-2',
      'phoenix-rooivalk-dr-replica',
      'phoenix-rooivalk-production',
    ]) {
      expect(await decide('rds:RestoreDBInstanceFromDBSnapshot', rds(`db:${name}`), runTags)).toBe(
        'ImplicitlyDenied',
      );
    }
  });
});

describe('what the DR task may tag', () => {
  it('never the standby, nor any other database, with a run tag: it could then delete them', async () => {
    for (const resource of [STANDBY, rds('db:phoenix-rooivalk-dr-2'), rds('db:phoenix-rooivalk-ledger')]) {
      expect(await decide('rds:AddTagsToResource', resource, runTags)).toBe('ImplicitlyDenied');
    }
  });

  it('never again a database a run recovered, whatever its name', async () => {
    expect(
      await decide('rds:AddTagsToResource', TARGET, {
        ...runTags,
        ...resourceTags({ [RECOVERY_PROMOTED_TAG]: 'DR-20261101T000000Z-first1' }),
      }),
    ).toBe('ExplicitlyDenied');
  });

  it('the promoted mark and recovery point alone on what a run promotes or keeps', async () => {
    const mark = requestTags({
      [RECOVERY_PROMOTED_TAG]: RUN,
      [RECOVERY_POINT_TAG]: '2026-11-02T13:59:56.102Z',
    });
    for (const resource of [STANDBY, STANDBY_DRILL, TARGET]) {
      expect(await decide('rds:AddTagsToResource', resource, mark)).toBe('Allowed');
    }
    expect(
      await decide(
        'rds:AddTagsToResource',
        STANDBY,
        requestTags({ [RECOVERY_PROMOTED_TAG]: RUN, [RECOVERY_RUN_TAG]: RUN }),
      ),
    ).toBe('ImplicitlyDenied');
    expect(await decide('rds:AddTagsToResource', rds('db:phoenix-rooivalk-ledger'), mark)).toBe(
      'ImplicitlyDenied',
    );
  });

  it('takes off the run tag of what it keeps, and nothing else', async () => {
    expect(await decide('rds:RemoveTagsFromResource', TARGET, { 'aws:TagKeys': [RECOVERY_RUN_TAG] })).toBe(
      'Allowed',
    );
    expect(
      await decide('rds:RemoveTagsFromResource', TARGET, { 'aws:TagKeys': [RECOVERY_PROMOTED_TAG] }),
    ).toBe('ImplicitlyDenied');
    expect(await decide('rds:RemoveTagsFromResource', STANDBY, { 'aws:TagKeys': [RECOVERY_RUN_TAG] })).toBe(
      'ImplicitlyDenied',
    );
  });
});

describe('what the DR task may delete, promote and protect', () => {
  it('deletes only what carries a run tag, of the names a run creates', async () => {
    const tagged = resourceTags({ [RECOVERY_RUN_TAG]: RUN });
    for (const resource of [TARGET, TARGET_DRILL, STANDBY_DRILL]) {
      expect(await decide('rds:DeleteDBInstance', resource, tagged)).toBe('Allowed');
      expect(await decide('rds:DeleteDBInstance', resource)).toBe('ImplicitlyDenied');
    }
    expect(await decide('rds:DeleteDBInstance', STANDBY, tagged)).toBe('ImplicitlyDenied');
    expect(await decide('rds:DeleteDBInstance', rds('db:phoenix-rooivalk-dr-2'), tagged)).toBe(
      'ImplicitlyDenied',
    );
  });

  it('promotes the standby and its drill twin only, and protects the target and the standby only', async () => {
    expect(await decide('rds:PromoteReadReplica', STANDBY)).toBe('Allowed');
    expect(await decide('rds:PromoteReadReplica', STANDBY_DRILL)).toBe('Allowed');
    expect(await decide('rds:PromoteReadReplica', TARGET)).toBe('ImplicitlyDenied');
    expect(await decide('rds:ModifyDBInstance', TARGET)).toBe('Allowed');
    expect(await decide('rds:ModifyDBInstance', STANDBY)).toBe('Allowed');
    expect(await decide('rds:ModifyDBInstance', rds('db:phoenix-rooivalk-ledger'))).toBe('ImplicitlyDenied');
  });

  it('names its final snapshots after the run, of the databases it may delete', async () => {
    expect(
      await decide(
        'rds:AddTagsToResource',
        rds('snapshot:phoenix-rooivalk-dr-final-dr-20261102t140000z-a1b2c3'),
      ),
    ).toBe('Allowed');
    expect(
      await decide('rds:AddTagsToResource', rds('snapshot:phoenix-rooivalk-production-2026-11-02')),
    ).toBe('ImplicitlyDenied');
  });
});
