import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { DynamoDbRecoveryRunStore } from '../../lambdas/adapters/aws/dynamodb-recovery-run-store';
import { RECOVERY_TYPES } from '../../lambdas/core/recovery/recovery';
import { deployedLedgerAppender, deployedOperator } from '../operator-identity';
import { StackOutputMissingError } from './ledger';

export class NoPendingApprovalError extends Error {
  override name = 'NoPendingApprovalError';
}

interface Deployed {
  readonly stack: string;
  readonly region: string;
}

/**
 * `aor dr …`: disaster recovery on the deployed stack (the local rehearsal is `aor drill dr`).
 * Approvals are sent as the caller's own IAM principal, which the ledger records.
 */
export function registerDrCommands(program: Command): void {
  const dr = program
    .command('dr')
    .description('start a disaster recovery run and answer its routing approval');
  const deployed = (command: Command) =>
    command
      .requiredOption('--stack <name>', 'the deployed disaster recovery stack', 'AorDisasterRecovery')
      .option('--region <region>', 'the DR region (its ledger records the answer)', 'us-gov-east-1');

  deployed(dr.command('start'))
    .description('start a run: {drSite, recoveryType, backupDate, dryRun}')
    .option('--recovery-type <type>', RECOVERY_TYPES.join(', '), 'full')
    .option('--backup-date <date>', 'latest or YYYY-MM-DD', 'latest')
    .option('--dry-run', 'restore into drill targets, clean up, never switch routing')
    .action(async (options: Deployed & { recoveryType: string; backupDate: string; dryRun?: boolean }) => {
      const stateMachineArn = await stackOutput(options, 'StateMachineArn');
      const input = {
        drSite: options.region,
        recoveryType: options.recoveryType,
        backupDate: options.backupDate,
        dryRun: options.dryRun ?? false,
      };
      const { executionArn } = await new SFNClient({ region: options.region }).send(
        new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
      );
      console.log(`started ${executionArn}`);
    });

  deployed(dr.command('approve'))
    .description('approve the routing switch of a run waiting for it')
    .argument('<run>', 'the run id (DR-…)')
    .action(async (runId: string, options: Deployed) => {
      await answer(options, runId, true, 'approved');
    });

  deployed(dr.command('reject'))
    .description('reject the routing switch: the run compensates and fails')
    .argument('<run>', 'the run id (DR-…)')
    .requiredOption('--reason <text>', 'why, for the run record and the ledger')
    .action(async (runId: string, options: Deployed & { reason: string }) => {
      await answer(options, runId, false, options.reason);
    });
}

async function answer(options: Deployed, runId: string, approved: boolean, reason: string): Promise<void> {
  const runs = new DynamoDbRecoveryRunStore(
    DynamoDBDocumentClient.from(new DynamoDBClient({ region: options.region }), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    await stackOutput(options, 'RecoveryRunsTableName'),
  );
  const taskToken = await runs.approvalToken(runId);
  if (!taskToken) throw new NoPendingApprovalError(`run ${runId} is not waiting for a routing approval`);
  const operator = await deployedOperator(options.region);
  const by = operator.actor.id;
  const at = new Date().toISOString();
  const sfn = new SFNClient({ region: options.region });
  if (approved) {
    await sfn.send(
      new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ approvedBy: by, approvedAt: at }) }),
    );
  } else {
    await sfn.send(
      new SendTaskFailureCommand({
        taskToken,
        error: 'RoutingSwitchRejectedError',
        cause: `rejected by ${by}: ${reason}`,
      }),
    );
  }
  console.log(`${runId}: routing switch ${approved ? 'approved' : 'rejected'} by ${by}`);
  // The answer is given; the DR region's ledger records it as the caller's own principal. Not
  // reaching it is an error the operator must see (and retry: the append is idempotent).
  try {
    await deployedLedgerAppender(options.region, operator).append(
      {
        action: approved ? 'recovery.routing-approved' : 'recovery.routing-rejected',
        target: { type: 'recovery-run', id: runId },
        actor: operator.actor,
        occurredAt: at,
        inputs: { reason },
        outcome: 'info',
        runId,
      },
      `${runId}/routing-${approved ? 'approved' : 'rejected'}`,
    );
  } catch (error) {
    console.error(
      `error: the answer is not recorded in the ledger of ${options.region}: ${(error as Error).message}`,
    );
    process.exitCode = 1;
  }
}

async function stackOutput(options: Deployed, key: string): Promise<string> {
  const { Stacks } = await new CloudFormationClient({ region: options.region }).send(
    new DescribeStacksCommand({ StackName: options.stack }),
  );
  const value = Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
  if (!value) throw new StackOutputMissingError(`stack ${options.stack} has no output ${key}`);
  return value;
}
