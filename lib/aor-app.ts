import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { LEDGER_STACK_NAMES, WORKFLOW_WRITERS } from '../lambdas/core/ledger/ledger-contract';
import {
  INCIDENT_STATE_MACHINE_NAME,
  RECOVERY_STATE_MACHINE_NAME,
} from '../lambdas/shared/state-machine-names';
import type { AorConfig } from './config';
import { AuditLedgerStack } from './stacks/audit-ledger-stack';
import { DisasterRecoveryStack } from './stacks/disaster-recovery-stack';
import { IncidentResponseStack } from './stacks/incident-response-stack';

export interface AorStacks {
  /** The primary region's ledger, which incident response writes. */
  readonly ledger: AuditLedgerStack;
  /** The DR region's ledger, which disaster recovery writes. */
  readonly drLedger: AuditLedgerStack;
  readonly incidentResponse: IncidentResponseStack;
  readonly disasterRecovery: DisasterRecoveryStack;
}

/**
 * Adds AOR's stacks to an app: an audit ledger in each region, incident response in the primary
 * region, disaster recovery in the DR region, each workflow writing the ledger of its own region.
 * The cdk-nag packs (AWS Solutions, NIST 800-53 rev 5) run on every synth, so an unacknowledged
 * finding fails the synth, the deploy and the tests.
 */
export function addAorStacks(app: App, config: AorConfig): AorStacks {
  const primary = { account: config.account, region: config.primaryRegion };
  const dr = { account: config.account, region: config.drRegion };
  const tags = { project: 'phoenix-rooivalk', component: 'aor' };
  const ledger = new AuditLedgerStack(app, LEDGER_STACK_NAMES.primary, {
    env: primary,
    config,
    network: config.primary.network,
    peerRegion: config.drRegion,
    workflowWriters: { [WORKFLOW_WRITERS.incidentResponse]: INCIDENT_STATE_MACHINE_NAME },
    tags,
    description: 'AOR: verified audit ledger of operational actions (primary region)',
  });
  const drLedger = new AuditLedgerStack(app, LEDGER_STACK_NAMES.dr, {
    env: dr,
    config,
    network: config.dr.network,
    peerRegion: config.primaryRegion,
    workflowWriters: { [WORKFLOW_WRITERS.disasterRecovery]: RECOVERY_STATE_MACHINE_NAME },
    tags,
    description: 'AOR: verified audit ledger of operational actions (DR region)',
  });
  const incidentResponse = new IncidentResponseStack(app, 'AorIncidentResponse', {
    env: primary,
    config,
    ledger,
    tags,
    description: 'AOR: incident response workflow',
  });
  const disasterRecovery = new DisasterRecoveryStack(app, 'AorDisasterRecovery', {
    env: dr,
    config,
    ledger: drLedger,
    tags,
    description: 'AOR: disaster recovery workflow (DR region)',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
  return { ledger, drLedger, incidentResponse, disasterRecovery };
}
