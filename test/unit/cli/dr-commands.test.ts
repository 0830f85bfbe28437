import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  type ExecutionStatus,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DrEnvironment, openDeployment, registerDrCommands } from '../../../cli/commands/dr';
import { DynamoDbRecoveryRunStore } from '../../../lambdas/adapters/aws/dynamodb-recovery-run-store';
import type { AuditRecord } from '../../../lambdas/core/ledger/audit-record';
import {
  DR_STACK_NAME,
  DR_STACK_OUTPUTS,
  RUNS_SUBJECT_INDEX,
  RUNS_TABLE_KEYS,
} from '../../../lambdas/core/recovery/recovery-contract';
import type { RecoveryRunRecord } from '../../../lambdas/core/recovery/run-store';
import { type EmbeddedDynamoDb, startEmbeddedDynamoDb } from '../../../local/dynamodb/embedded-dynamodb';
import { RecordingTrail } from '../../support/recording-trail';

const sts = mockClient(STSClient);
const sfn = mockClient(SFNClient);
const cloudFormation = mockClient(CloudFormationClient);

const ACCOUNT = '123456789012';
const REGION = 'us-gov-east-1';
const STATE_MACHINE = `arn:aws-us-gov:states:${REGION}:${ACCOUNT}:stateMachine:aor-disaster-recovery`;
const NOW = new Date('2026-12-01T10:15:00.000Z');

/** Two people: alice starts runs, bob approves them. */
const person = (name: string) => ({
  arn: `arn:aws-us-gov:sts::${ACCOUNT}:assumed-role/aor-recovery-operator/${name}`,
  userId: `AROAEXAMPLEOPERATOR:${name}`,
});
const alice = person('alice');
const bob = person('bob');
const carol = person('carol');

const executionArn = (name: string) =>
  `arn:aws-us-gov:states:${REGION}:${ACCOUNT}:execution:aor-disaster-recovery:${name}`;

let dynamo: EmbeddedDynamoDb;
let tables = 0;
let tableName: string;
let store: DynamoDbRecoveryRunStore;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamoDb();
});
afterAll(async () => {
  await dynamo.close();
});

beforeEach(async () => {
  sts.reset();
  sfn.reset();
  cloudFormation.reset();
  tableName = `dr-runs-${++tables}`;
  await dynamo.ensureTable(tableName, [RUNS_SUBJECT_INDEX]);
  store = new DynamoDbRecoveryRunStore(dynamo.documentClient, tableName);
  stackOutputs({
    [DR_STACK_OUTPUTS.stateMachineArn]: STATE_MACHINE,
    [DR_STACK_OUTPUTS.runsTableName]: tableName,
  });
  callerIs(alice);
  sfn
    .on(StartExecutionCommand)
    .callsFake((input: { name?: string }) => ({ executionArn: executionArn(input.name ?? 'unnamed') }));
  executionIs('RUNNING');
});

function stackOutputs(outputs: Record<string, string>): void {
  cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: DR_STACK_NAME,
        CreationTime: NOW,
        StackStatus: 'CREATE_COMPLETE',
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
}

function callerIs(who: { arn: string; userId: string }): void {
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: who.arn, UserId: who.userId });
}

function executionIs(status: ExecutionStatus): void {
  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => ({
    executionArn: input.executionArn,
    stateMachineArn: STATE_MACHINE,
    status,
    startDate: NOW,
  }));
}

/** The `aor` program with the DR commands, its AWS clients those mocked above and the runs table dynalite's. */
function cli(options: { onSleep?: (ms: number) => Promise<void> | void; now?: Date } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const exits: number[] = [];
  const trail = new RecordingTrail();
  let clock = (options.now ?? NOW).getTime();
  let sleeps = 0;
  const env: DrEnvironment = {
    deployment: (target) =>
      openDeployment(target, { documentClient: dynamo.documentClient, ledger: () => trail }),
    clock: () => new Date(clock),
    sleep: async (ms) => {
      // A watch that never stops fails its test rather than hanging it.
      if (++sleeps > 20) throw new Error('the watch did not stop');
      clock += ms;
      await options.onSleep?.(ms);
    },
    random: () => 'c0ffee',
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    exit: (code) => exits.push(code),
  };
  return {
    out,
    err,
    trail,
    /** What `aor` would exit with: the last code set, 0 when none was. */
    exitCode: () => exits.at(-1) ?? 0,
    async run(...args: string[]): Promise<void> {
      const program = new Command('aor')
        .exitOverride()
        .configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
      registerDrCommands(program, env);
      await program.parseAsync(['dr', ...args], { from: 'user' });
    },
  };
}

async function allItems(): Promise<Record<string, unknown>[]> {
  const { Items } = await dynamo.documentClient.send(new ScanCommand({ TableName: tableName }));
  return Items ?? [];
}

async function peopleItems(): Promise<Record<string, unknown>[]> {
  return (await allItems()).filter((i) => /^(APPROVAL|START)#/.test(String(i.pk)));
}

const RUN_ID = 'DR-20261201T100000Z-0a0a0a';
const EXECUTION_NAME = 'aor-20261201T100000Z-0a0a0a';

/** A real run as the workflow writes it, started by `starter` through `aor dr start`. */
async function seedRun(
  overrides: Partial<RecoveryRunRecord> = {},
  options: { approvalAsked?: boolean; starter?: { arn: string; userId: string } | null } = {},
): Promise<RecoveryRunRecord> {
  const run: RecoveryRunRecord = {
    runId: RUN_ID,
    execution: executionArn(EXECUTION_NAME),
    request: { drSite: REGION, recoveryType: 'full', backupDate: 'latest', dryRun: false },
    status: 'running',
    startedAt: '2026-12-01T10:00:00.000Z',
    ...overrides,
  };
  await store.putRun(run);
  const starter = options.starter === undefined ? alice : options.starter;
  if (starter) {
    await store.putStartRequest({
      executionName: EXECUTION_NAME,
      principalId: starter.userId,
      principalArn: starter.arn,
      at: '2026-12-01T09:59:58.000Z',
    });
  }
  await store.recordStep(run.runId, {
    step: 'validate-site',
    startedAt: '2026-12-01T10:00:01.000Z',
    finishedAt: '2026-12-01T10:00:13.000Z',
    status: 'succeeded',
  });
  if (options.approvalAsked ?? true) await store.putApprovalRequest(run.runId, '2026-12-01T10:10:00.000Z');
  return run;
}

const records = (trail: RecordingTrail, action: string) => trail.storedOf(action);

describe('aor dr start', () => {
  it('writes the start request under the caller, records it as them, then starts the execution with that name and the validated input', async () => {
    const aor = cli();
    // What the table and the ledger hold when the execution starts: the workflow must find the
    // starter the moment it begins.
    let atStart: { people: Record<string, unknown>[]; ledger: number } | undefined;
    sfn.on(StartExecutionCommand).callsFake(async (input: { name: string }) => {
      atStart = { people: await peopleItems(), ledger: aor.trail.stored().length };
      return { executionArn: executionArn(input.name) };
    });

    await aor.run(
      'start',
      '--recovery-type',
      'data-only',
      '--backup-date',
      '2026-11-30',
      '--dry-run',
      '--mode',
      'warm-standby',
    );

    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const { name, input, stateMachineArn } = calls[0]?.args[0].input ?? {};
    expect(stateMachineArn).toBe(STATE_MACHINE);
    expect(name).toBe('aor-20261201T101500Z-c0ffee');
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(JSON.parse(input ?? '')).toEqual({
      drSite: REGION,
      recoveryType: 'data-only',
      backupDate: '2026-11-30',
      dryRun: true,
      mode: 'warm-standby',
    });

    const item = (
      await dynamo.documentClient.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: RUNS_TABLE_KEYS.startRequest(alice.userId), sk: name },
        }),
      )
    ).Item;
    expect(item).toMatchObject({
      principalArn: alice.arn,
      subject: RUNS_TABLE_KEYS.startSubject(name ?? ''),
    });
    await expect(store.startRequests(name ?? '')).resolves.toEqual([
      { executionName: name, principalId: alice.userId, principalArn: alice.arn, at: NOW.toISOString() },
    ]);
    expect(atStart?.people).toHaveLength(1);
    expect(atStart?.ledger).toBe(1);

    const [recorded] = records(aor.trail, 'recovery.start-requested');
    expect(recorded?.idempotencyKey).toBe(`dr-start/${name}`);
    expect(recorded?.record.actor).toEqual({
      type: 'iam-principal',
      id: alice.arn,
      principalId: alice.userId,
    });
    expect(recorded?.record.target).toEqual({ type: 'recovery-execution', id: name });

    expect(aor.out.join('\n')).toContain(`started ${executionArn(name ?? '')}`);
    expect(aor.exitCode()).toBe(0);
  });

  it('defaults to a full real recovery from the latest backup in the deployment mode, and says someone else must approve', async () => {
    const aor = cli();
    await aor.run('start');
    const input = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '';
    expect(JSON.parse(input)).toEqual({
      drSite: REGION,
      recoveryType: 'full',
      backupDate: 'latest',
      dryRun: false,
    });
    expect(aor.out.join('\n')).toMatch(/approval of someone other than you/);
  });

  it('builds its clients for --region and reads the stack named by --stack', async () => {
    await cli().run('start', '--stack', 'AorDisasterRecoveryBlue', '--region', 'us-gov-west-1');
    const describe = cloudFormation.commandCalls(DescribeStacksCommand);
    expect(describe.map((call) => call.args[0].input)).toEqual([{ StackName: 'AorDisasterRecoveryBlue' }]);
    for (const client of [
      describe[0]?.thisValue,
      sfn.commandCalls(StartExecutionCommand)[0]?.thisValue,
      sts.commandCalls(GetCallerIdentityCommand)[0]?.thisValue,
    ]) {
      await expect((client as { config: { region: () => Promise<string> } }).config.region()).resolves.toBe(
        'us-gov-west-1',
      );
    }
    const input = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '';
    expect(JSON.parse(input)).toMatchObject({ drSite: 'us-gov-west-1' });
  });

  it.each([
    [['--recovery-type', 'partial'], /--recovery-type/],
    [['--backup-date', '2026-02-30'], /--backup-date: latest or a real date/],
    [['--backup-date', 'yesterday'], /--backup-date/],
    [['--backup-date', '2026-12-02'], /--backup-date: 2026-12-02 is in the future/],
    [['--mode', 'cold'], /--mode/],
  ])('refuses %j with a named error, writing and starting nothing', async (args, message) => {
    const aor = cli();
    await expect(aor.run('start', ...args)).rejects.toMatchObject({
      name: 'InvalidRecoveryRequestError',
      message: expect.stringMatching(message),
    });
    expect(await allItems()).toEqual([]);
    expect(aor.trail.calls).toEqual([]);
    expect(sfn.commandCalls(StartExecutionCommand)).toEqual([]);
    expect(cloudFormation.commandCalls(DescribeStacksCommand)).toEqual([]);
  });

  it('names the stack output it misses, and starts nothing', async () => {
    stackOutputs({ [DR_STACK_OUTPUTS.runsTableName]: tableName });
    const aor = cli();
    await expect(aor.run('start')).rejects.toMatchObject({
      name: 'StackOutputMissingError',
      message: expect.stringContaining(DR_STACK_OUTPUTS.stateMachineArn),
    });
    expect(await allItems()).toEqual([]);
    expect(sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });

  it('starts no execution the ledger has not recorded', async () => {
    const aor = cli();
    aor.trail.failNext('ThrottlingException');
    await expect(aor.run('start')).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });
});

describe('aor dr approve / reject', () => {
  it("writes bob's approval keyed by his own user id, records it as him, and says where the approval stands", async () => {
    await seedRun();
    callerIs(bob);
    const aor = cli();

    await aor.run('approve', RUN_ID, '--reason', 'site validated');

    const { Item } = await dynamo.documentClient.send(
      new GetCommand({
        TableName: tableName,
        Key: { pk: RUNS_TABLE_KEYS.approvalDecision(bob.userId), sk: RUN_ID },
      }),
    );
    expect(Item).toMatchObject({
      subject: RUNS_TABLE_KEYS.approvalSubject(RUN_ID),
      principalArn: bob.arn,
      decision: 'approve',
      reason: 'site validated',
    });
    await expect(store.approvalDecisions(RUN_ID)).resolves.toEqual([
      {
        runId: RUN_ID,
        principalId: bob.userId,
        principalArn: bob.arn,
        decision: 'approve',
        reason: 'site validated',
        at: NOW.toISOString(),
      },
    ]);
    const [recorded] = records(aor.trail, 'recovery.routing-approval-decided');
    expect(recorded?.idempotencyKey).toBe(`${RUN_ID}/decision/${bob.userId}`);
    expect(recorded?.record).toMatchObject({
      actor: { type: 'iam-principal', id: bob.arn, principalId: bob.userId },
      target: { type: 'recovery-run', id: RUN_ID },
      inputs: { decision: 'approve', reason: 'site validated' },
      runId: RUN_ID,
    } satisfies Partial<AuditRecord>);
    expect(aor.out.join('\n')).toContain(`approval: approved by ${bob.arn}`);
    expect(aor.exitCode()).toBe(0);
  });

  it('counts n of m: a run nobody is named as starting needs two people', async () => {
    await seedRun({}, { starter: null });
    callerIs(bob);
    const aor = cli();
    await aor.run('approve', RUN_ID);
    expect(aor.out.join('\n')).toMatch(/1 of 2 approvals/);
    callerIs(carol);
    await aor.run('approve', RUN_ID);
    expect(aor.out.join('\n')).toContain(`approved by ${bob.arn}, ${carol.arn}`);
  });

  it("refuses the starter's approval, says it does not count, and writes nothing", async () => {
    await seedRun();
    callerIs(alice);
    const aor = cli();

    await aor.run('approve', RUN_ID);

    expect(aor.err.join('\n')).toMatch(
      /^StarterCannotApproveError: .*started run .*does not count \(the workflow ignores it\)/,
    );
    expect(aor.exitCode()).toBe(1);
    expect(await store.approvalDecisions(RUN_ID)).toEqual([]);
    expect(aor.trail.calls).toEqual([]);
  });

  it('lets the starter reject (withdraw) their own run', async () => {
    await seedRun();
    callerIs(alice);
    const aor = cli();
    await aor.run('reject', RUN_ID, '--reason', 'wrong backup');
    expect(await store.approvalDecisions(RUN_ID)).toMatchObject([
      { principalId: alice.userId, decision: 'reject' },
    ]);
    expect(aor.out.join('\n')).toContain(`rejected by ${alice.arn}: wrong backup`);
    expect(aor.exitCode()).toBe(0);
  });

  it.each([
    ['there is no such run', async () => undefined, /there is no run/],
    ['the run succeeded', () => seedRun({ status: 'succeeded' }), /is succeeded/],
    ['the run failed', () => seedRun({ status: 'failed' }), /is failed/],
    [
      'a dry run never asks',
      () =>
        seedRun(
          { request: { drSite: REGION, recoveryType: 'full', backupDate: 'latest', dryRun: true } },
          { approvalAsked: false },
        ),
      /dry run never does/,
    ],
    ['the run has not asked yet', () => seedRun({}, { approvalAsked: false }), /not asked .* yet/],
  ])('refuses when %s with NoPendingApprovalError, writing nothing', async (_case, seed, message) => {
    await seed();
    callerIs(bob);
    for (const args of [
      ['approve', RUN_ID],
      ['reject', RUN_ID, '--reason', 'no'],
    ]) {
      const aor = cli();
      await aor.run(...args);
      expect(aor.err.join('\n')).toMatch(/^NoPendingApprovalError: /);
      expect(aor.err.join('\n')).toMatch(message);
      expect(aor.exitCode()).toBe(1);
      expect(aor.trail.calls).toEqual([]);
    }
    expect(await store.approvalDecisions(RUN_ID)).toEqual([]);
  });

  it('requires a reason to reject', async () => {
    await seedRun();
    callerIs(bob);
    const aor = cli();
    const missing = aor.run('reject', RUN_ID);
    await expect(missing).rejects.toBeInstanceOf(CommanderError);
    await expect(missing).rejects.toMatchObject({ code: 'commander.missingMandatoryOptionValue' });
    await expect(aor.run('reject', RUN_ID, '--reason', '  ')).rejects.toMatchObject({
      name: 'MissingReasonError',
    });
    expect(await store.approvalDecisions(RUN_ID)).toEqual([]);

    await aor.run('reject', RUN_ID, '--reason', 'RDS endpoint answers the old site');
    expect(await store.approvalDecisions(RUN_ID)).toMatchObject([
      { principalId: bob.userId, decision: 'reject', reason: 'RDS endpoint answers the old site' },
    ]);
  });

  it('keeps a decision as written: the same again is a retry the ledger recognises, another is refused', async () => {
    await seedRun();
    callerIs(bob);
    const first = cli();
    first.trail.failNext('ThrottlingException');
    await first.run('approve', RUN_ID);
    // Written, not recorded: the operator is told to run it again.
    expect(first.err.join('\n')).toMatch(/not recorded in the ledger/);
    expect(first.exitCode()).toBe(1);

    // Minutes later: the retry must still send the record the first attempt built.
    const later = cli({ now: new Date(NOW.getTime() + 5 * 60_000) });
    const trail = later.trail;
    await later.run('approve', RUN_ID);
    await later.run('approve', RUN_ID);
    expect(later.exitCode()).toBe(0);
    expect(trail.stored()).toHaveLength(1);
    expect(first.trail.calls[0]?.entry).toBe(trail.stored()[0]?.entry);

    await later.run('reject', RUN_ID, '--reason', 'changed my mind');
    expect(later.err.join('\n')).toMatch(/^DecisionAlreadyMadeError: you approved run/);
    expect(later.exitCode()).toBe(1);
    expect(await store.approvalDecisions(RUN_ID)).toMatchObject([{ decision: 'approve' }]);
  });
});

describe('aor dr abandon', () => {
  it('starts the abandon execution for a failed run', async () => {
    await seedRun({ status: 'failed', failedStep: 'restore-database', error: 'RdsRestoreTimeoutError' });
    callerIs(bob);
    const aor = cli();

    await aor.run('abandon', RUN_ID);

    const [call] = sfn.commandCalls(StartExecutionCommand);
    expect(call?.args[0].input.stateMachineArn).toBe(STATE_MACHINE);
    expect(JSON.parse(call?.args[0].input.input ?? '')).toEqual({ abandon: RUN_ID });
    const name = call?.args[0].input.name ?? '';
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(aor.out[0]).toBe(`started ${executionArn(name)}`);
    await expect(store.startRequests(name)).resolves.toMatchObject([{ principalId: bob.userId }]);
    expect(records(aor.trail, 'recovery.abandon-requested')).toHaveLength(1);
    expect(aor.exitCode()).toBe(0);
  });

  it.each(['running', 'succeeded'] as const)(
    'refuses a %s run with RunNotAbandonableError',
    async (status) => {
      await seedRun({ status });
      const aor = cli();
      await aor.run('abandon', RUN_ID);
      expect(aor.err.join('\n')).toMatch(new RegExp(`^RunNotAbandonableError: run ${RUN_ID} is ${status}`));
      expect(aor.exitCode()).toBe(1);
      expect(sfn.commandCalls(StartExecutionCommand)).toEqual([]);
      expect(aor.trail.calls).toEqual([]);
    },
  );

  it('refuses a run already abandoned, naming when', async () => {
    await seedRun({ status: 'failed', abandonedAt: '2026-11-23T06:00:00.000Z' });
    const aor = cli();
    await aor.run('abandon', RUN_ID);
    expect(aor.err.join('\n')).toMatch(
      `RunNotAbandonableError: run ${RUN_ID} was abandoned at 2026-11-23T06:00:00.000Z`,
    );
    expect(aor.exitCode()).toBe(1);
    expect(sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });

  it('names a run that does not exist', async () => {
    await expect(cli().run('abandon', RUN_ID)).rejects.toMatchObject({ name: 'RunNotFoundError' });
    expect(sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });
});

describe('aor dr status', () => {
  it("shows the record, the steps with durations, the decisions and the execution's status; exits 0 while running", async () => {
    const run = await seedRun();
    await store.putApprovalDecision({
      runId: RUN_ID,
      principalId: carol.userId,
      principalArn: carol.arn,
      decision: 'approve',
      reason: '',
      at: '2026-12-01T10:11:00.000Z',
    });
    const aor = cli();

    await aor.run('status', RUN_ID);

    expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toContainEqual({
      executionArn: run.execution,
    });
    const text = aor.out.join('\n');
    expect(text).toContain(`${RUN_ID}  RUNNING`);
    expect(text).toMatch(/validate-site\s+succeeded\s+12 s/);
    expect(text).toContain(`${run.execution} RUNNING`);
    expect(text).toContain(`approved by ${carol.arn}`);
    expect(text).toContain(`starter    ${alice.arn}`);
    expect(aor.exitCode()).toBe(0);
  });

  it('exits 1 for a failed run and 0 for a succeeded one', async () => {
    await seedRun({ status: 'failed', failedStep: 'restore-database', error: 'timed out' });
    executionIs('FAILED');
    const failed = cli();
    await failed.run('status', RUN_ID);
    expect(failed.out.join('\n')).toContain('failed at  restore-database: timed out');
    expect(failed.exitCode()).toBe(1);

    await store.putRun({
      ...(await seedRunRecord()),
      status: 'succeeded',
      rtoSeconds: 1500,
      rpoSeconds: 240,
      finishedAt: '2026-12-01T10:25:00.000Z',
    });
    executionIs('SUCCEEDED');
    const succeeded = cli();
    await succeeded.run('status', RUN_ID);
    expect(succeeded.out.join('\n')).toContain('RTO 1500 s, RPO 240 s');
    expect(succeeded.exitCode()).toBe(0);
  });

  it('exits 1 when the execution ended without finishing a run still recorded as running', async () => {
    await seedRun();
    executionIs('TIMED_OUT');
    const aor = cli();
    await aor.run('status', RUN_ID);
    expect(aor.out.join('\n')).toMatch(/ended without finishing the run record/);
    expect(aor.exitCode()).toBe(1);
  });

  it('prints JSON with --json', async () => {
    await seedRun();
    const aor = cli();
    await aor.run('status', RUN_ID, '--json');
    const view = JSON.parse(aor.out.join('\n'));
    expect(view).toMatchObject({
      run: { runId: RUN_ID, status: 'running' },
      steps: [{ step: 'validate-site', durationSeconds: 12 }],
      approval: {
        requestedAt: '2026-12-01T10:10:00.000Z',
        decisions: [],
        verdict: { state: 'pending', needed: 1 },
      },
      execution: { status: 'RUNNING' },
    });
  });

  it('names a run that does not exist', async () => {
    await expect(cli().run('status', 'DR-nope')).rejects.toMatchObject({ name: 'RunNotFoundError' });
  });
});

describe('aor dr list', () => {
  it('lists runs newest first with their status, kind, mode and, once finished, RTO/RPO', async () => {
    await store.putRun({
      runId: 'DR-1',
      execution: executionArn('one'),
      request: { drSite: REGION, recoveryType: 'full', backupDate: 'latest', dryRun: true, mode: 'snapshot' },
      status: 'succeeded',
      startedAt: '2026-11-01T00:00:00.000Z',
      finishedAt: '2026-11-01T00:20:00.000Z',
      rtoSeconds: 1200,
      rpoSeconds: null,
    });
    await store.putRun({
      runId: 'DR-2',
      execution: executionArn('two'),
      request: { drSite: REGION, recoveryType: 'data-only', backupDate: 'latest', dryRun: false },
      status: 'running',
      startedAt: '2026-12-01T00:00:00.000Z',
    });
    const aor = cli();
    await aor.run('list');
    expect(aor.out).toEqual([
      'DR-2  running    real     default       2026-12-01T00:00:00.000Z',
      'DR-1  succeeded  dry run  snapshot      2026-11-01T00:00:00.000Z  RTO 1200 s, RPO n/a',
    ]);

    const json = cli();
    await json.run('list', '--json');
    expect(JSON.parse(json.out.join('\n')).map((r: RecoveryRunRecord) => r.runId)).toEqual(['DR-2', 'DR-1']);
  });
});

describe('aor dr watch', () => {
  it('prints steps, the approval and decisions as they happen, until the run leaves running; exits as status', async () => {
    await seedRun({}, { approvalAsked: false });
    const sleeps: number[] = [];
    // What the workflow does between two looks.
    const script = [
      () =>
        store.recordStep(RUN_ID, {
          step: 'restore-database',
          startedAt: '2026-12-01T10:01:00.000Z',
          finishedAt: '2026-12-01T10:09:00.000Z',
          status: 'succeeded',
        }),
      () => store.putApprovalRequest(RUN_ID, '2026-12-01T10:10:00.000Z'),
      () =>
        store.putApprovalDecision({
          runId: RUN_ID,
          principalId: bob.userId,
          principalArn: bob.arn,
          decision: 'approve',
          reason: 'ok',
          at: '2026-12-01T10:12:00.000Z',
        }),
      async () => {
        await store.putRun({
          ...(await seedRunRecord()),
          status: 'succeeded',
          finishedAt: '2026-12-01T10:20:00.000Z',
          rtoSeconds: 1200,
          rpoSeconds: 300,
        });
        executionIs('SUCCEEDED');
      },
    ];
    const aor = cli({
      onSleep: async (ms) => {
        sleeps.push(ms);
        await script.shift()?.();
      },
    });

    await aor.run('watch', RUN_ID, '--interval', '5');

    expect(sleeps).toEqual([5000, 5000, 5000, 5000]);
    const events = aor.out.filter((line) => /^\d{4}-/.test(line));
    expect(events).toEqual([
      expect.stringMatching(/step restore-database succeeded \(480 s\)$/),
      expect.stringMatching(/asks for its routing approval \(0 of 1 approvals/),
      expect.stringContaining(`${bob.arn} approved: ok (approved by ${bob.arn})`),
    ]);
    expect(aor.out.at(-1)).toBe(`${RUN_ID} succeeded: RTO 1200 s, RPO 300 s`);
    expect(aor.exitCode()).toBe(0);
  });

  it('exits 1 when the run fails', async () => {
    await seedRun();
    const aor = cli({
      onSleep: async () => {
        await store.putRun({
          ...(await seedRunRecord()),
          status: 'failed',
          failedStep: 'switch-routing',
          error: 'boom',
        });
        executionIs('FAILED');
      },
    });
    await aor.run('watch', RUN_ID, '--interval', '1');
    expect(aor.out.at(-1)).toBe(`${RUN_ID} FAILED at switch-routing: boom`);
    expect(aor.exitCode()).toBe(1);
  });

  it('stops, exiting 1, when the execution ends without finishing the run record', async () => {
    await seedRun();
    const aor = cli({ onSleep: () => executionIs('ABORTED') });
    await aor.run('watch', RUN_ID, '--interval', '1');
    expect(aor.out.at(-1)).toMatch(/execution ended ABORTED without finishing the run record/);
    expect(aor.exitCode()).toBe(1);
  });

  it.each(['0', '-5', '1.5', '1e3', '0x10', 'soon', ''])(
    'refuses --interval %j with InvalidIntervalError before looking',
    async (interval) => {
      await seedRun();
      await expect(cli().run('watch', RUN_ID, '--interval', interval)).rejects.toMatchObject({
        name: 'InvalidIntervalError',
      });
      expect(cloudFormation.commandCalls(DescribeStacksCommand)).toEqual([]);
    },
  );
});

async function seedRunRecord(): Promise<RecoveryRunRecord> {
  const run = await store.getRun(RUN_ID);
  if (!run) throw new Error('the test seeds the run first');
  return run;
}
