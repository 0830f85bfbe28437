import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { DynamoDbLedgerStore } from '../../lambdas/adapters/aws/dynamodb-ledger-store';
import { openLocalLedger } from '../../lambdas/adapters/local/local-ledger';
import { ledgerExportContents } from '../../lambdas/core/ledger/ledger';
import { noteKeyId, noteVerifier } from '../../lambdas/core/ledger/signed-note';
import { verifyLedgerExport } from '../../lambdas/core/ledger/verify-export';
import { type ExportSummary, readLedgerExport, writeLedgerExport } from '../ledger-export-directory';
import { stateDirectory } from '../state';

export class StackOutputMissingError extends Error {
  override name = 'StackOutputMissingError';
}

export function registerLedgerCommands(program: Command): void {
  const ledger = program.command('ledger').description('the verified audit ledger');

  ledger
    .command('export')
    .description('export the ledger (entries, leaf hashes, signed checkpoints) to a directory')
    .requiredOption('--out <dir>', 'directory to write the export to')
    .option(
      '--stack <name>',
      'export the deployed ledger of this CloudFormation stack instead of the local one',
    )
    .option('--region <region>', 'region of --stack', process.env.AWS_REGION ?? 'us-gov-west-1')
    .action(async (options: { out: string; stack?: string; region: string }) => {
      const summary = options.stack
        ? await exportDeployedLedger(options.stack, options.region, options.out)
        : await exportLocalLedger(options.out);
      console.log(
        `exported ${summary.entries} entries and ${summary.checkpoints} checkpoints to ${summary.directory}`,
      );
    });

  ledger
    .command('verify')
    .description(
      'verify an export offline: every signature, every entry against the tree, checkpoint consistency',
    )
    .argument('<dir>', 'an export directory')
    .option(
      '--public-key <file>',
      'PEM public key of the ledger signing key (default: the one in the export)',
    )
    .option(
      '--trusted-checkpoint <file>',
      'a checkpoint seen before; the export must not roll back behind it',
    )
    .action((dir: string, options: { publicKey?: string; trustedCheckpoint?: string }) => {
      const keyFile = options.publicKey ?? path.join(dir, 'public-key.pem');
      const publicKeyPem = readFileSync(keyFile, 'utf8');
      const contents = readLedgerExport(
        dir,
        options.trustedCheckpoint ? readFileSync(options.trustedCheckpoint, 'utf8') : undefined,
      );
      const verifier = noteVerifier(contents.origin, publicKeyPem);
      const result = verifyLedgerExport(contents, [verifier]);
      const keyNote = options.publicKey
        ? ''
        : ' (key taken from the export itself: pass --public-key to pin it)';
      if (result.ok) {
        console.log(
          `verified: ${result.entries} entries, ${result.checkpoints} checkpoints, root ${result.rootHash}, key ${verifier.keyId.toString(16).padStart(8, '0')}${keyNote}`,
        );
      } else {
        const where = result.firstBadIndex !== undefined ? ` [first bad index: ${result.firstBadIndex}]` : '';
        const checkpoint = result.badCheckpoint ? ` [bad checkpoint: ${result.badCheckpoint}]` : '';
        console.error(`FAILED: ${result.problem}${where}${checkpoint}`);
        process.exitCode = 1;
      }
    });
}

async function exportLocalLedger(out: string): Promise<ExportSummary> {
  const local = openLocalLedger(stateDirectory());
  // Cover whatever a drill appended but did not get to integrate.
  await local.ledger.integrate();
  return writeLedgerExport(out, local.origin, local.publicKeyPem, local.ledger.exportContents());
}

async function exportDeployedLedger(stackName: string, region: string, out: string): Promise<ExportSummary> {
  const cloudFormation = new CloudFormationClient({ region });
  const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs = new Map((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const output = (key: string): string => {
    const value = outputs.get(key);
    if (!value) throw new StackOutputMissingError(`stack ${stackName} has no output ${key}`);
    return value;
  };
  const store = new DynamoDbLedgerStore(
    DynamoDBDocumentClient.from(new DynamoDBClient({ region })),
    output('LedgerTableName'),
  );
  const key = await new KMSClient({ region }).send(
    new GetPublicKeyCommand({ KeyId: output('SigningKeyArn') }),
  );
  if (!key.PublicKey)
    throw new StackOutputMissingError(`KMS returned no public key for ${output('SigningKeyArn')}`);
  const publicKeyPem = createPublicKey({ key: Buffer.from(key.PublicKey), format: 'der', type: 'spki' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  console.error(`signing key ID ${noteKeyId(key.PublicKey).toString(16).padStart(8, '0')}`);
  return writeLedgerExport(out, output('LedgerOrigin'), publicKeyPem, ledgerExportContents(store));
}
