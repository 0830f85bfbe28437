import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { LocalLedgerOptions } from './local-ledgers';
import { WORKFLOW_WRITERS } from '../../lambdas/core/ledger/ledger-contract';
import {
  executionArnPrefix,
  INCIDENT_STATE_MACHINE_NAME,
  RECOVERY_STATE_MACHINE_NAME,
} from '../../lambdas/shared/state-machine-names';
import { type AorConfig, parseAorConfig } from '../../lib/config';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** GovCloud's partition: the local drills play the deployment the example configuration describes. */
export const LOCAL_PARTITION = 'aws-us-gov';

/** The `aor` configuration of cdk.json: the deployment the local drills play, without loading the CDK. */
export function localAorConfig(): AorConfig {
  return parseAorConfig(JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context.aor);
}

/** The local ledgers as the deployed ones: incident response writes the primary log, recovery the DR one. */
export function localLedgerOptions(config: AorConfig): LocalLedgerOptions {
  const prefix = (region: string, stateMachine: string) =>
    executionArnPrefix(LOCAL_PARTITION, region, config.account, stateMachine);
  return {
    primaryRegion: config.primaryRegion,
    drRegion: config.drRegion,
    workflowWriters: {
      primary: {
        [WORKFLOW_WRITERS.incidentResponse]: prefix(config.primaryRegion, INCIDENT_STATE_MACHINE_NAME),
      },
      dr: { [WORKFLOW_WRITERS.disasterRecovery]: prefix(config.drRegion, RECOVERY_STATE_MACHINE_NAME) },
    },
  };
}
