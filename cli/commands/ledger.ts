import { existsSync, readFileSync } from 'node:fs';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { dynamoDbLedgerStore, publicKeyPem } from '../../lambdas/adapters/aws/aws-ledger';
import { S3CheckpointArchive } from '../../lambdas/adapters/aws/s3-checkpoint-archive';
import { LEDGER_STACK_NAMES, LEDGER_STACK_OUTPUTS } from '../../lambdas/core/ledger/ledger-contract';
import { archiveDiscrepancies, ledgerExportContents } from '../../lambdas/core/ledger/ledger-export';
import { verifierKey } from '../../lambdas/core/ledger/signed-note';
import type { NamedNote } from '../../lambdas/core/ledger/verify-export';
import { verifyLedgerExports } from '../../lambdas/core/ledger/verify-ledgers';
import { integrateAndVerify, localLogExports } from '../../local/harness/ledger-check';
import { openLocalState } from '../../local/harness/local-state';
import {
  type ExportSummary,
  type LogExport,
  readLedgerExport,
  writeLedgerExport,
} from '../ledger-export-directory';
import { stateDirectory } from '../state';

export class StackOutputMissingError extends Error {
  override name = 'StackOutputMissingError';
}

/** `aor ledger verify` was given no key to pin: it refuses rather than trust the export's own. */
export class NoPinnedKeyError extends Error {
  override name = 'NoPinnedKeyError';
}

interface DeployedRegions {
  readonly deployed?: boolean;
  readonly primaryRegion: string;
  readonly drRegion: string;
}

export function registerLedgerCommands(program: Command): void {
  const ledger = program.command('ledger').description('the verified audit ledgers (one per region)');
  const regions = (command: Command) =>
    command
      .option(
        '--deployed',
        'the deployed ledgers (stacks AorAuditLedger and AorAuditLedgerDr) instead of the local ones',
      )
      .option('--primary-region <region>', 'region of the primary ledger', 'us-gov-west-1')
      .option('--dr-region <region>', 'region of the DR ledger', 'us-gov-east-1');

  regions(ledger.command('export'))
    .description(
      "export both regions' logs (entries, leaf hashes, archived checkpoints, cosignatures) to a directory",
    )
    .requiredOption('--out <dir>', 'directory to write the export to')
    .action(async (options: DeployedRegions & { out: string }) => {
      const summary = options.deployed
        ? await exportDeployed(options, options.out)
        : await exportLocal(options.out);
      for (const log of summary.logs) {
        console.log(
          `exported ${log.origin}: ${log.entries} entries, ${log.checkpoints} checkpoints, ${log.cosigned} cosigned checkpoints of the other log`,
        );
        for (const problem of log.problems) console.error(`  ARCHIVE MISMATCH: ${problem}`);
      }
      console.log(`to ${summary.directory}`);
      // An export whose table disagrees with its archive is written (the archive is the truth) but
      // is not a clean result.
      if (summary.logs.some((log) => log.problems.length > 0)) process.exitCode = 1;
    });

  regions(ledger.command('keys'))
    .description('the verifier keys (c2sp vkeys) of both logs, for an auditor to pin')
    .action(async (options: DeployedRegions) => {
      const keys = options.deployed ? await deployedKeys(options) : await localKeys();
      for (const key of keys) console.log(key);
    });

  ledger
    .command('verify')
    .description(
      'verify an export offline: every signature and cosignature, every entry against the signed trees, checkpoint consistency',
    )
    .argument('<dir>', 'an export directory')
    .option(
      '--key <vkey|file>',
      'a pinned verifier key (c2sp vkey) or a file of them, one per line; one per log, required',
      (value: string, previous: string[]) => [...previous, ...readKeys(value)],
      [] as string[],
    )
    .option(
      '--trusted-checkpoint <file>',
      'a checkpoint seen before (e.g. at the last audit); the export must contain its tree',
      (value: string, previous: NamedNote[]) => [
        ...previous,
        { name: value, note: readFileSync(value, 'utf8') },
      ],
      [] as NamedNote[],
    )
    .action((dir: string, options: { key: string[]; trustedCheckpoint: NamedNote[] }) => {
      if (options.key.length === 0) {
        throw new NoPinnedKeyError(
          "refusing to verify without a pinned key: pass --key with each log's verifier key (see `aor ledger keys`)",
        );
      }
      const result = verifyLedgerExports({
        ...readLedgerExport(dir),
        verifierKeys: options.key,
        trustedCheckpoints: options.trustedCheckpoint,
      });
      for (const log of result.logs) {
        const witnessed = log.witnessed.map((w) => `cosigned at ${w.treeSize} by ${w.by}`).join(', ');
        console.log(
          log.ok
            ? `verified ${log.origin}: ${log.entries} entries, ${log.checkpoints} checkpoints, root ${log.rootHash}${witnessed ? `; ${witnessed}` : ''}`
            : `FAILED ${log.origin}: ${log.problem}`,
        );
      }
      if (!result.ok) {
        console.error(`FAILED: ${result.problem}`);
        process.exitCode = 1;
      }
    });
}

/** A `--key` value: a file of vkeys (one per line) if such a file exists, else a vkey itself. */
function readKeys(value: string): string[] {
  if (!existsSync(value)) return [value];
  return readFileSync(value, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
}

async function exportLocal(out: string): Promise<ExportSummary> {
  const state = await openLocalState(stateDirectory());
  try {
    // Let both sequencers run first: whatever a drill appended is integrated, signed and witnessed.
    await integrateAndVerify(state.ledgers);
    return await writeLedgerExport(out, await localLogExports(state.ledgers));
  } finally {
    await state.close();
  }
}

interface DeployedLedger {
  readonly region: string;
  readonly outputs: (key: string) => string;
}

async function deployedLedger(stackName: string, region: string): Promise<DeployedLedger> {
  const { Stacks } = await new CloudFormationClient({ region }).send(
    new DescribeStacksCommand({ StackName: stackName }),
  );
  const outputs = new Map((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  return {
    region,
    outputs: (key) => {
      const value = outputs.get(key);
      if (!value) throw new StackOutputMissingError(`stack ${stackName} in ${region} has no output ${key}`);
      return value;
    },
  };
}

function deployedLedgers(options: DeployedRegions): Promise<DeployedLedger[]> {
  return Promise.all([
    deployedLedger(LEDGER_STACK_NAMES.primary, options.primaryRegion),
    deployedLedger(LEDGER_STACK_NAMES.dr, options.drRegion),
  ]);
}

async function deployedKey(ledger: DeployedLedger): Promise<{ origin: string; pem: string; vkey: string }> {
  const keyArn = ledger.outputs(LEDGER_STACK_OUTPUTS.signingKeyArn);
  const key = await new KMSClient({ region: ledger.region }).send(new GetPublicKeyCommand({ KeyId: keyArn }));
  if (!key.PublicKey) throw new StackOutputMissingError(`KMS returned no public key for ${keyArn}`);
  const origin = ledger.outputs(LEDGER_STACK_OUTPUTS.origin);
  const pem = publicKeyPem(key.PublicKey);
  return { origin, pem, vkey: verifierKey(origin, pem) };
}

async function deployedKeys(options: DeployedRegions): Promise<string[]> {
  return Promise.all(
    (await deployedLedgers(options)).map(async (ledger) => (await deployedKey(ledger)).vkey),
  );
}

async function localKeys(): Promise<string[]> {
  const state = await openLocalState(stateDirectory());
  try {
    return [state.ledgers.primary.verifierKey, state.ledgers.dr.verifierKey];
  } finally {
    await state.close();
  }
}

/**
 * Both deployed logs, read with the caller's credentials: checkpoints and cosignatures from each
 * region's Object-Locked archive (the first version of each object), entries from its table.
 */
async function exportDeployed(options: DeployedRegions, out: string): Promise<ExportSummary> {
  const logs: LogExport[] = [];
  for (const ledger of await deployedLedgers(options)) {
    const source = {
      store: dynamoDbLedgerStore(ledger.region, ledger.outputs(LEDGER_STACK_OUTPUTS.tableName)),
      archive: new S3CheckpointArchive(
        new S3Client({ region: ledger.region }),
        ledger.outputs(LEDGER_STACK_OUTPUTS.archiveBucketName),
      ),
    };
    const key = await deployedKey(ledger);
    console.error(`${key.origin}: signing key ${key.vkey} (compare with the key you pinned)`);
    logs.push({
      origin: key.origin,
      publicKeyPem: key.pem,
      verifierKey: key.vkey,
      parts: ledgerExportContents(source),
      problems: await archiveDiscrepancies(source),
    });
  }
  return writeLedgerExport(out, logs);
}
