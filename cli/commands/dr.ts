import { randomBytes } from 'node:crypto';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { DynamoDbRecoveryRunStore } from '../../lambdas/adapters/aws/dynamodb-recovery-run-store';
import type { AuditRecord } from '../../lambdas/core/ledger/audit-record';
import type { AuditTrail } from '../../lambdas/core/ledger/ledger';
import {
  type ApprovalDecision,
  type ApprovalVerdict,
  approvalVerdict,
  type Decision,
  starterOf,
} from '../../lambdas/core/recovery/approvals';
import {
  InvalidRecoveryRequestError,
  RECOVERY_MODES,
  RECOVERY_TYPES,
  type RecoveryRequest,
  recoveryRequestSchema,
} from '../../lambdas/core/recovery/recovery';
import { DR_STACK_NAME, DR_STACK_OUTPUTS } from '../../lambdas/core/recovery/recovery-contract';
import type {
  RecoveryRunRecord,
  RecoveryRunStore,
  RecoveryStepRecord,
} from '../../lambdas/core/recovery/run-store';
import { deployedLedgerAppender, deployedOperator, type Operator } from '../operator-identity';
import { StackOutputMissingError } from './ledger';

/** The default of `--region`: where the DR stack is deployed. */
const DR_REGION = 'us-gov-east-1';

/**
 * A refusal: the command understood what was asked and the run's state says no. It prints its
 * name and why, and exits 1 (usage errors are thrown, and `aor` exits 2 on them).
 */
abstract class DrRefusal extends Error {}

/** The run does not exist, or is not waiting for its routing approval (finished, a dry run, not there yet). */
export class NoPendingApprovalError extends DrRefusal {
  override name = 'NoPendingApprovalError';
}

/** Whoever started a run cannot approve its routing switch: the workflow ignores their approval. */
export class StarterCannotApproveError extends DrRefusal {
  override name = 'StarterCannotApproveError';
}

/** The caller already decided on this run; a decision stands as written (the ledger holds it). */
export class DecisionAlreadyMadeError extends DrRefusal {
  override name = 'DecisionAlreadyMadeError';
}

/** Only a failed run keeps what it restored; anything else has nothing to abandon. */
export class RunNotAbandonableError extends DrRefusal {
  override name = 'RunNotAbandonableError';
}

export class RunNotFoundError extends Error {
  override name = 'RunNotFoundError';
}

/** `aor dr reject` without a reason: the run record and the ledger say why. */
export class MissingReasonError extends Error {
  override name = 'MissingReasonError';
}

export class InvalidIntervalError extends Error {
  override name = 'InvalidIntervalError';
}

/** Where the commands act: the deployed DR stack of one region. */
export interface Target {
  readonly stack: string;
  readonly region: string;
}

/** What the commands read and write of the runs table (the workflow's store, plus one read). */
export type RunsTable = Pick<
  RecoveryRunStore,
  | 'putStartRequest'
  | 'putApprovalDecision'
  | 'approvalDecisions'
  | 'startRequests'
  | 'listRuns'
  | 'getRun'
  | 'readSteps'
  | 'approvalRequestedAt'
>;

/** The deployed stack, its outputs read once: the state machine, the runs table, the caller and the ledger. */
export interface Deployment {
  readonly target: Target;
  readonly sfn: SFNClient;
  /** Throws StackOutputMissingError when the stack has no such output. */
  stateMachineArn(): string;
  runs(): RunsTable;
  /** The caller, as STS names them. */
  operator(): Promise<Operator>;
  /** The DR region's ledger, appended to as the caller. */
  ledger(operator: Operator): AuditTrail;
}

/** Everything outside the commands' logic, so tests can run them without AWS or a terminal. */
export interface DrEnvironment {
  deployment(target: Target): Promise<Deployment>;
  clock(): Date;
  sleep(ms: number): Promise<void>;
  /** Random lowercase letters and digits for execution names. */
  random(): string;
  out(line: string): void;
  err(line: string): void;
  exit(code: number): void;
}

/** The clients a deployment is built from; each defaults to one made for the target's region. */
export interface DeploymentClients {
  readonly cloudFormation?: CloudFormationClient;
  readonly sfn?: SFNClient;
  readonly documentClient?: DynamoDBDocumentClient;
  readonly operator?: () => Promise<Operator>;
  readonly ledger?: (operator: Operator) => AuditTrail;
}

/**
 * The deployed DR stack: one DescribeStacks, then clients for its region (FIPS endpoints come from
 * `AWS_USE_FIPS_ENDPOINT`, which the SDK reads itself).
 */
export async function openDeployment(target: Target, clients: DeploymentClients = {}): Promise<Deployment> {
  const cloudFormation = clients.cloudFormation ?? new CloudFormationClient({ region: target.region });
  const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: target.stack }));
  const outputs = new Map(
    (Stacks?.[0]?.Outputs ?? []).flatMap((o) =>
      o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
    ),
  );
  const output = (key: string) => {
    const value = outputs.get(key);
    if (!value) throw new StackOutputMissingError(`stack ${target.stack} has no output ${key}`);
    return value;
  };
  const documentClient =
    clients.documentClient ??
    DynamoDBDocumentClient.from(new DynamoDBClient({ region: target.region }), {
      marshallOptions: { removeUndefinedValues: true },
    });
  let runs: RunsTable | undefined;
  return {
    target,
    sfn: clients.sfn ?? new SFNClient({ region: target.region }),
    stateMachineArn: () => output(DR_STACK_OUTPUTS.stateMachineArn),
    runs: () =>
      (runs ??= new DynamoDbRecoveryRunStore(documentClient, output(DR_STACK_OUTPUTS.runsTableName))),
    operator: clients.operator ?? (() => deployedOperator(target.region)),
    ledger: clients.ledger ?? ((operator) => deployedLedgerAppender(target.region, operator)),
  };
}

export function deployedEnvironment(): DrEnvironment {
  return {
    deployment: (target) => openDeployment(target),
    clock: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => randomBytes(3).toString('hex'),
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    exit: (code) => {
      process.exitCode = code;
    },
  };
}

/**
 * `aor dr …`: disaster recovery on the deployed stack (the local rehearsal is `aor drill dr`).
 * People act by writing items in the runs table under their own `aws:userid` (its policy denies
 * writing anyone else's) and the workflow polls for them; each act is also recorded in the DR
 * region's ledger as the caller.
 */
export function registerDrCommands(program: Command, env: DrEnvironment = deployedEnvironment()): void {
  const dr = program
    .command('dr')
    .description('start, approve, reject, abandon and follow disaster recovery runs of the deployed stack');
  const deployed = (command: Command) =>
    command
      .option('--stack <name>', 'the deployed disaster recovery stack', DR_STACK_NAME)
      .option('--region <region>', 'the DR region (its ledger records what you do)', DR_REGION);
  // Refusals print their name and reason and exit 1; anything else reaches `aor`, which exits 2.
  const refusing =
    <Args extends unknown[]>(work: (...args: Args) => Promise<void>) =>
    async (...args: Args) => {
      try {
        await work(...args);
      } catch (error) {
        if (!(error instanceof DrRefusal)) throw error;
        env.err(`${error.name}: ${error.message}`);
        env.exit(1);
      }
    };

  deployed(dr.command('start'))
    .description('start a run: {drSite, recoveryType, backupDate, dryRun, mode}')
    .option('--recovery-type <type>', RECOVERY_TYPES.join(', '), 'full')
    .option('--backup-date <date>', 'latest or YYYY-MM-DD', 'latest')
    .option('--dry-run', 'restore into drill targets, clean up, never switch routing')
    .option('--mode <mode>', `${RECOVERY_MODES.join(' or ')} (default: the deployment's)`)
    .action(refusing((options: StartOptions) => start(env, options)));

  deployed(dr.command('approve'))
    .description("approve a waiting run's routing switch (someone other than its starter)")
    .argument('<run>', 'the run id (DR-…)')
    .option('--reason <text>', 'why, for the run record and the ledger')
    .action(
      refusing((runId: string, options: Target & { reason?: string }) =>
        decide(env, options, runId, 'approve', options.reason ?? ''),
      ),
    );

  deployed(dr.command('reject'))
    .description('reject the routing switch: the run stops before switching, keeping what it restored')
    .argument('<run>', 'the run id (DR-…)')
    .requiredOption('--reason <text>', 'why, for the run record and the ledger')
    .action(
      refusing((runId: string, options: Target & { reason: string }) =>
        decide(env, options, runId, 'reject', options.reason),
      ),
    );

  deployed(dr.command('abandon'))
    .description('remove what a failed run kept (tag-checked, after a final database snapshot)')
    .argument('<run>', 'the run id (DR-…)')
    .action(refusing((runId: string, options: Target) => abandon(env, options, runId)));

  deployed(dr.command('status'))
    .description("a run's record, steps, approval and execution; exits 1 when it failed")
    .argument('<run>', 'the run id (DR-…)')
    .option('--json', 'print JSON')
    .action(
      refusing(async (runId: string, options: Target & { json?: boolean }) => {
        const deployment = await env.deployment(targetOf(options));
        const view = await viewRun(deployment, runId);
        if (options.json) env.out(JSON.stringify(view, null, 2));
        else for (const line of describeRun(view)) env.out(line);
        env.exit(exitCodeOf(view));
      }),
    );

  deployed(dr.command('list'))
    .description('runs, newest first')
    .option('--json', 'print JSON')
    .action(
      refusing(async (options: Target & { json?: boolean }) => {
        const runs = await (await env.deployment(targetOf(options))).runs().listRuns();
        if (options.json) env.out(JSON.stringify(runs, null, 2));
        else if (runs.length === 0) env.out('no runs');
        else for (const run of runs) env.out(listLine(run));
      }),
    );

  deployed(dr.command('watch'))
    .description('print what a run does until it finishes; exits as `status` does')
    .argument('<run>', 'the run id (DR-…)')
    .option('--interval <seconds>', 'seconds between looks', '15')
    .action(refusing((runId: string, options: Target & { interval: string }) => watch(env, options, runId)));
}

interface StartOptions extends Target {
  readonly recoveryType: string;
  readonly backupDate: string;
  readonly dryRun?: boolean;
  readonly mode?: string;
}

/** The option each field of the request comes from, to name it in an error. */
const OPTION_OF: Record<keyof RecoveryRequest, string> = {
  drSite: '--region',
  recoveryType: '--recovery-type',
  backupDate: '--backup-date',
  dryRun: '--dry-run',
  mode: '--mode',
};

/** The request the options describe, as the workflow will validate it: refused here first. */
export function startRequestInput(options: StartOptions, today: Date): RecoveryRequest {
  const parsed = recoveryRequestSchema.safeParse({
    drSite: options.region,
    recoveryType: options.recoveryType,
    backupDate: options.backupDate,
    dryRun: options.dryRun ?? false,
    ...(options.mode !== undefined && { mode: options.mode }),
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = issue.path[0] as keyof RecoveryRequest | undefined;
      return `${field ? OPTION_OF[field] : '(request)'}: ${issue.message}`;
    });
    throw new InvalidRecoveryRequestError(`invalid recovery request: ${problems.join('; ')}`);
  }
  const request = parsed.data;
  if (request.backupDate !== 'latest' && request.backupDate > today.toISOString().slice(0, 10)) {
    throw new InvalidRecoveryRequestError(
      `invalid recovery request: --backup-date: ${request.backupDate} is in the future`,
    );
  }
  return request;
}

/** `aor-<UTC stamp>-<random>`: a valid Step Functions execution name (`[A-Za-z0-9_-]{1,80}`). */
export function executionName(now: Date, random: string, purpose?: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return ['aor', ...(purpose ? [purpose] : []), stamp, random.replace(/[^A-Za-z0-9]/g, '')].join('-');
}

async function start(env: DrEnvironment, options: StartOptions): Promise<void> {
  const target = targetOf(options);
  const now = env.clock();
  const input = startRequestInput(options, now);
  const deployment = await env.deployment(target);
  const stateMachineArn = deployment.stateMachineArn();
  const runs = deployment.runs();
  const operator = await deployment.operator();
  const name = executionName(now, env.random());
  const at = now.toISOString();
  // Who starts it, under their own user id: the workflow reads it and counts their approval out.
  await putStarter(runs, operator, name, at);
  // Recorded before the execution starts: no run is started that the ledger does not name a starter for.
  await deployment.ledger(operator).append(
    auditRecord(
      operator,
      at,
      'recovery.start-requested',
      { type: 'recovery-execution', id: name },
      {
        stateMachineArn,
        input,
      },
    ),
    `dr-start/${name}`,
  );
  const { executionArn } = await deployment.sfn.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
  );
  env.out(`started ${executionArn}`);
  env.out(`  ${describeRequest(input)}; started by ${operator.actor.id}`);
  env.out(
    input.dryRun
      ? '  a dry run never switches routing, so it asks nobody for approval'
      : '  its routing switch needs the approval of someone other than you (unless the deployment turned approvals off): they run `aor dr approve <run>`',
  );
  env.out(`  its run id is in \`aor dr list${flags(target)}\` once the workflow has begun`);
}

async function decide(
  env: DrEnvironment,
  options: Target,
  runId: string,
  decision: Decision,
  reason: string,
): Promise<void> {
  if (decision === 'reject' && reason.trim() === '') {
    throw new MissingReasonError('a rejection needs --reason <text>: the run record and the ledger say why');
  }
  const target = targetOf(options);
  const deployment = await env.deployment(target);
  const runs = deployment.runs();
  const run = await runs.getRun(runId);
  const requestedAt = await runs.approvalRequestedAt(runId);
  if (!run)
    throw new NoPendingApprovalError(`there is no run ${runId} in stack ${target.stack} (${target.region})`);
  if (run.status !== 'running') {
    throw new NoPendingApprovalError(`run ${runId} is ${run.status}: it waits for no approval`);
  }
  if (requestedAt === undefined) {
    throw new NoPendingApprovalError(
      `run ${runId} has not asked for its routing approval${run.request.dryRun ? ' (a dry run never does)' : ' yet'}`,
    );
  }
  const operator = await deployment.operator();
  const principalId = principalIdOf(operator);
  const requests = await runs.startRequests(executionNameOf(run));
  if (decision === 'approve' && requests.some((r) => r.principalId === principalId)) {
    throw new StarterCannotApproveError(
      `you (${operator.actor.id}) started run ${runId}: your approval does not count (the workflow ignores it), ` +
        'and nothing was written. Someone else must approve it; you may still reject it.',
    );
  }
  const earlier = (await runs.approvalDecisions(runId)).find((d) => d.principalId === principalId);
  if (earlier && (earlier.decision !== decision || earlier.reason !== reason)) {
    throw new DecisionAlreadyMadeError(
      `you ${pastTense(earlier.decision)} run ${runId} at ${earlier.at}${earlier.reason ? ` (${earlier.reason})` : ''}; ` +
        'a decision stands as written',
    );
  }
  // The same decision again (a retry after the ledger failed) keeps its time, so the ledger
  // receives the very record it may already hold.
  const mine: ApprovalDecision = earlier ?? {
    runId,
    principalId,
    principalArn: operator.actor.id,
    decision,
    reason,
    at: env.clock().toISOString(),
  };
  await runs.putApprovalDecision(mine);
  const again = earlier ? ` (already, at ${earlier.at})` : '';
  env.out(`${runId}: you (${operator.actor.id}) ${pastTense(decision)} its routing switch${again}`);
  const verdict = standing(await runs.approvalDecisions(runId), requests, requestedAt);
  env.out(`  approval: ${describeVerdict(verdict)}`);
  // The decision stands; the ledger records it as the caller. Not reaching it is an error the
  // operator must see, and retry (the same decision again appends the same record).
  try {
    await deployment
      .ledger(operator)
      .append(
        auditRecord(
          operator,
          mine.at,
          'recovery.routing-approval-decided',
          { type: 'recovery-run', id: runId },
          { decision, ...(reason && { reason }) },
          runId,
        ),
        `${runId}/decision/${principalId}`,
      );
  } catch (error) {
    env.err(
      `error: your decision is written but not recorded in the ledger of ${target.region} (run the same command again): ${(error as Error).message}`,
    );
    env.exit(1);
  }
}

async function abandon(env: DrEnvironment, options: Target, runId: string): Promise<void> {
  const target = targetOf(options);
  const deployment = await env.deployment(target);
  const runs = deployment.runs();
  const run = await runs.getRun(runId);
  if (!run)
    throw new RunNotFoundError(`there is no run ${runId} in stack ${target.stack} (${target.region})`);
  if (run.status !== 'failed') {
    throw new RunNotAbandonableError(
      `run ${runId} is ${run.status}: only a failed run keeps what it restored for someone to abandon`,
    );
  }
  if (run.abandonedAt) {
    throw new RunNotAbandonableError(
      `run ${runId} was abandoned at ${run.abandonedAt}: nothing it kept is left`,
    );
  }
  const stateMachineArn = deployment.stateMachineArn();
  const operator = await deployment.operator();
  const now = env.clock();
  const name = executionName(now, env.random(), 'abandon');
  const at = now.toISOString();
  await putStarter(runs, operator, name, at);
  await deployment
    .ledger(operator)
    .append(
      auditRecord(
        operator,
        at,
        'recovery.abandon-requested',
        { type: 'recovery-run', id: runId },
        { execution: name },
        runId,
      ),
      `${runId}/abandon/${name}`,
    );
  const { executionArn } = await deployment.sfn.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify({ abandon: runId }) }),
  );
  env.out(`started ${executionArn}`);
  env.out(
    `  it removes what ${runId} kept (only what carries its tag), after a final snapshot of its database`,
  );
}

/** Everything `status` shows of a run. */
export interface RunView {
  readonly run: RecoveryRunRecord;
  readonly steps: readonly (RecoveryStepRecord & { readonly durationSeconds: number })[];
  readonly approval: {
    readonly requestedAt: string | null;
    readonly decisions: readonly ApprovalDecision[];
    readonly starter: string | null;
    readonly verdict: ApprovalVerdict;
  };
  readonly execution: { readonly arn: string; readonly status: string };
}

async function viewRun(deployment: Deployment, runId: string): Promise<RunView> {
  const runs = deployment.runs();
  const found = await runs.getRun(runId);
  if (!found) {
    const { stack, region } = deployment.target;
    throw new RunNotFoundError(`there is no run ${runId} in stack ${stack} (${region})`);
  }
  // The execution first: a run record is final before its execution ends, so an ended execution
  // with a record still `running` is an execution that died without finishing it.
  const { status } = await deployment.sfn.send(
    new DescribeExecutionCommand({ executionArn: found.execution }),
  );
  const run = (await runs.getRun(runId)) ?? found;
  const [steps, decisions, requestedAt, requests] = await Promise.all([
    runs.readSteps(runId),
    runs.approvalDecisions(runId),
    runs.approvalRequestedAt(runId),
    runs.startRequests(executionNameOf(run)),
  ]);
  return {
    run,
    steps: steps
      .toSorted((a, b) => a.startedAt.localeCompare(b.startedAt))
      .map((s) => ({ ...s, durationSeconds: secondsBetween(s.startedAt, s.finishedAt) })),
    approval: {
      requestedAt: requestedAt ?? null,
      decisions,
      starter: starterOf(requests)?.principalArn ?? null,
      verdict: standing(decisions, requests, requestedAt ?? run.startedAt),
    },
    execution: { arn: run.execution, status: status ?? 'UNKNOWN' },
  };
}

/** 0 while a run is running or when it succeeded; 1 when it failed, or its execution ended without it. */
function exitCodeOf(view: RunView): number {
  if (view.run.status === 'failed') return 1;
  if (view.run.status === 'running' && executionEnded(view)) return 1;
  return 0;
}

function executionEnded(view: RunView): boolean {
  return view.execution.status !== 'RUNNING' && view.execution.status !== 'PENDING_REDRIVE';
}

async function watch(
  env: DrEnvironment,
  options: Target & { interval: string },
  runId: string,
): Promise<void> {
  const interval = Number(options.interval);
  if (!/^\d+$/.test(options.interval.trim()) || !Number.isSafeInteger(interval) || interval <= 0) {
    throw new InvalidIntervalError(
      `--interval: ${options.interval} is not a positive whole number of seconds`,
    );
  }
  const deployment = await env.deployment(targetOf(options));
  let view = await viewRun(deployment, runId);
  for (const line of describeRun(view)) env.out(line);
  const seen = new Set([...view.steps.map(stepKey), ...view.approval.decisions.map(decisionKey)]);
  let asked = view.approval.requestedAt !== null;
  while (view.run.status === 'running' && !executionEnded(view)) {
    await env.sleep(interval * 1000);
    view = await viewRun(deployment, runId);
    const stamp = env.clock().toISOString();
    for (const step of view.steps.filter((s) => !seen.has(stepKey(s)))) {
      seen.add(stepKey(step));
      env.out(`${stamp}  step ${step.step} ${step.status} (${step.durationSeconds} s)`);
    }
    if (!asked && view.approval.requestedAt !== null) {
      asked = true;
      env.out(`${stamp}  asks for its routing approval (${describeVerdict(view.approval.verdict)})`);
    }
    for (const decision of view.approval.decisions.filter((d) => !seen.has(decisionKey(d)))) {
      seen.add(decisionKey(decision));
      env.out(
        `${stamp}  ${decision.principalArn} ${pastTense(decision.decision)}${decision.reason ? `: ${decision.reason}` : ''} (${describeVerdict(view.approval.verdict)})`,
      );
    }
  }
  env.out(finalLine(view));
  env.exit(exitCodeOf(view));
}

function describeRun(view: RunView): string[] {
  const { run, approval } = view;
  const lines = [
    `${run.runId}  ${run.status.toUpperCase()}`,
    `  request    ${describeRequest(run.request)}`,
    `  started    ${run.startedAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}`,
    ...(run.failedStep || run.error ? [`  failed at  ${run.failedStep ?? '?'}: ${run.error ?? ''}`] : []),
    ...(run.abandonedAt ? [`  abandoned  ${run.abandonedAt}: what the run kept was removed`] : []),
    ...(run.rtoSeconds !== undefined ? [`  achieved   ${objectives(run)}`] : []),
    `  execution  ${view.execution.arn} ${view.execution.status}`,
    ...(run.status === 'running' && executionEnded(view)
      ? ['  the execution ended without finishing the run record: the run is lost, not running']
      : []),
    `  steps${view.steps.length === 0 ? '      none finished yet' : ''}`,
    ...view.steps.map((s) => `    ${s.step.padEnd(28)} ${s.status.padEnd(9)} ${s.durationSeconds} s`),
  ];
  if (approval.requestedAt === null && approval.decisions.length === 0) {
    lines.push(
      `  approval   ${run.request.dryRun ? 'none (a dry run never switches routing)' : 'not asked for'}`,
    );
  } else {
    lines.push(
      `  approval   ${approval.requestedAt ? `asked at ${approval.requestedAt}` : 'not asked for'}; ${describeVerdict(approval.verdict)}`,
      `  starter    ${approval.starter ?? 'nobody named (not started with `aor dr start`): two approvers needed'}`,
      ...approval.decisions.map(
        (d) => `    ${d.decision.padEnd(8)} ${d.principalArn} at ${d.at}${d.reason ? `: ${d.reason}` : ''}`,
      ),
    );
  }
  return lines;
}

function listLine(run: RecoveryRunRecord): string {
  return [
    run.runId,
    run.status.padEnd(9),
    (run.request.dryRun ? 'dry run' : 'real').padEnd(7),
    (run.request.mode ?? 'default').padEnd(12),
    run.startedAt,
    ...(run.status !== 'running' && run.rtoSeconds !== undefined ? [objectives(run)] : []),
  ].join('  ');
}

function finalLine(view: RunView): string {
  const { run } = view;
  if (run.status === 'succeeded') return `${run.runId} succeeded: ${objectives(run)}`;
  if (run.status === 'failed') return `${run.runId} FAILED at ${run.failedStep ?? '?'}: ${run.error ?? ''}`;
  return `${run.runId}: its execution ended ${view.execution.status} without finishing the run record`;
}

function objectives(run: RecoveryRunRecord): string {
  const rpo = run.rpoSeconds === null || run.rpoSeconds === undefined ? 'n/a' : `${run.rpoSeconds} s`;
  return `RTO ${run.rtoSeconds ?? '?'} s, RPO ${rpo}`;
}

function describeRequest(request: RecoveryRequest): string {
  return [
    `${request.recoveryType} recovery into ${request.drSite}`,
    `backup ${request.backupDate}`,
    `mode ${request.mode ?? "the deployment's"}`,
    ...(request.dryRun ? ['DRY RUN'] : []),
  ].join(', ');
}

/**
 * Where the approval stands, counted as the workflow counts it (`approvalVerdict`, the starter
 * the start requests name). The timeout is the workflow's to judge: it is never reached here.
 */
function standing(
  decisions: readonly ApprovalDecision[],
  requests: Parameters<typeof starterOf>[0],
  requestedAt: string,
): ApprovalVerdict {
  return approvalVerdict(
    decisions,
    { starter: starterOf(requests)?.principalId, requestedAt, timeoutSeconds: Number.POSITIVE_INFINITY },
    new Date(requestedAt),
  );
}

function describeVerdict(verdict: ApprovalVerdict): string {
  switch (verdict.state) {
    case 'approved':
      return `approved by ${verdict.approvers.map((d) => d.principalArn).join(', ')}`;
    case 'rejected':
      return `rejected by ${verdict.by.principalArn}${verdict.by.reason ? `: ${verdict.by.reason}` : ''}`;
    case 'pending':
    case 'timed-out':
      return `${verdict.approvers.length} of ${verdict.needed} approvals${verdict.needed === 2 ? ' (nobody is named as its starter: two different people)' : ' (from someone other than its starter)'}`;
  }
}

function auditRecord(
  operator: Operator,
  occurredAt: string,
  action: string,
  target: AuditRecord['target'],
  inputs: Record<string, unknown>,
  runId?: string,
): AuditRecord {
  return {
    action,
    target,
    actor: operator.actor,
    occurredAt,
    inputs: JSON.parse(JSON.stringify(inputs)) as Record<string, unknown>,
    outcome: 'info',
    ...(runId !== undefined && { runId }),
  };
}

/** Who starts an execution, under their own user id (the runs table lets nobody write it for them). */
function putStarter(runs: RunsTable, operator: Operator, executionName: string, at: string): Promise<void> {
  return runs.putStartRequest({
    executionName,
    principalId: principalIdOf(operator),
    principalArn: operator.actor.id,
    at,
  });
}

function principalIdOf(operator: Operator): string {
  // deployedOperator always sets it; a caller STS did not name has no items of its own to write.
  if (!operator.actor.principalId) throw new Error(`${operator.actor.id} has no aws:userid`);
  return operator.actor.principalId;
}

/** The execution's name: the last part of its ARN, as the workflow derives it. */
function executionNameOf(run: RecoveryRunRecord): string {
  return run.execution.split(':').at(-1) ?? run.execution;
}

function targetOf(options: Target): Target {
  return { stack: options.stack, region: options.region };
}

function flags(target: Target): string {
  return `${target.stack === DR_STACK_NAME ? '' : ` --stack ${target.stack}`}${target.region === DR_REGION ? '' : ` --region ${target.region}`}`;
}

function pastTense(decision: Decision): string {
  return decision === 'approve' ? 'approved' : 'rejected';
}

function secondsBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 1000);
}

function stepKey(step: RecoveryStepRecord): string {
  return `${step.startedAt}#${step.step}`;
}

function decisionKey(decision: ApprovalDecision): string {
  return `${decision.principalId}#${decision.decision}#${decision.at}`;
}
