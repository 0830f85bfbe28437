/**
 * The optional LocalStack suite: deploys the four stacks with cdklocal and drives the deployed
 * workflows through the AWS APIs. It runs only when LOCALSTACK_ENDPOINT is set (e.g.
 * http://localhost:4566): LocalStack needs a Docker engine and an auth token, which this
 * project's machines do not have, so it has never run in this project's CI. LocalStack's RDS and
 * EKS are paid tiers: the suite drives what does not need them (an incident whose playbook has
 * no actions, which the ledger records, and the disaster recovery refusals).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';

const endpoint = process.env.LOCALSTACK_ENDPOINT;
const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');
const ACCOUNT = '000000000000';

if (!endpoint) {
  console.info(
    'LocalStack suite skipped: LOCALSTACK_ENDPOINT is not set (LocalStack needs a Docker engine and an auth token).',
  );
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const client = <T>(Client: new (config: object) => T, region: string) =>
  new Client({ endpoint, region, credentials });

function cdklocal(...args: string[]): string {
  const context = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context.aor;
  return execFileSync(
    'npx',
    ['cdklocal', ...args, '-c', `aor=${JSON.stringify({ ...context, account: ACCOUNT })}`],
    {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
      timeout: 30 * 60_000,
    },
  );
}

async function execute(region: string, stateMachine: string, input: unknown) {
  const sfn = client(SFNClient, region);
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: `arn:aws-us-gov:states:${region}:${ACCOUNT}:stateMachine:${stateMachine}`,
      input: JSON.stringify(input),
    }),
  );
  for (let polls = 0; polls < 120; polls++) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return execution;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  throw new Error(`${executionArn} still running after 4 minutes`);
}

describe.skipIf(!endpoint)('AOR deployed on LocalStack', () => {
  beforeAll(() => {
    cdklocal('bootstrap', `aws://${ACCOUNT}/us-gov-west-1`, `aws://${ACCOUNT}/us-gov-east-1`);
    cdklocal('deploy', '--all', '--require-approval', 'never');
  }, 40 * 60_000);

  it('runs an incident with no automated actions through to resolution', async () => {
    const opened = await execute('us-gov-west-1', 'aor-incident-response', {
      manual: {
        requestId: 'localstack-1',
        alarmName: 'phoenix-rooivalk-localstack',
        playbook: 'unknown_incident',
      },
    });
    expect(opened.status).toBe('SUCCEEDED');
    const resolved = await execute('us-gov-west-1', 'aor-incident-response', {
      manual: { requestId: 'localstack-2', alarmName: 'phoenix-rooivalk-localstack', state: 'OK' },
    });
    expect(resolved.status).toBe('SUCCEEDED');
  });

  it('refuses an invalid disaster recovery request', async () => {
    const run = await execute('us-gov-east-1', 'aor-disaster-recovery', {
      drSite: 'us-gov-east-1',
      recoveryType: 'full',
      backupDate: '2026-02-30',
      dryRun: true,
    });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('InvalidRecoveryRequestError');
  });
});
