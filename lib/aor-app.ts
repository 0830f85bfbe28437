import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import type { AorConfig } from './config';
import { AuditLedgerStack } from './stacks/audit-ledger-stack';
import { DisasterRecoveryStack } from './stacks/disaster-recovery-stack';
import { IncidentResponseStack } from './stacks/incident-response-stack';

export interface AorStacks {
  readonly ledger: AuditLedgerStack;
  readonly incidentResponse: IncidentResponseStack;
  readonly disasterRecovery: DisasterRecoveryStack;
}

/**
 * Adds AOR's stacks to an app: the audit ledger and incident response in the primary region,
 * disaster recovery in the DR region. The cdk-nag packs (AWS Solutions, NIST 800-53 rev 5) run on
 * every synth, so an unacknowledged finding fails the synth, the deploy and the tests.
 */
export function addAorStacks(app: App, config: AorConfig): AorStacks {
  const primary = { account: config.account, region: config.primaryRegion };
  const tags = { project: 'phoenix-rooivalk', component: 'aor' };
  const ledger = new AuditLedgerStack(app, 'AorAuditLedger', {
    env: primary,
    config,
    tags,
    description: 'AOR: verified audit ledger of operational actions',
  });
  const incidentResponse = new IncidentResponseStack(app, 'AorIncidentResponse', {
    env: primary,
    config,
    ledger,
    tags,
    description: 'AOR: incident response workflow',
  });
  const disasterRecovery = new DisasterRecoveryStack(app, 'AorDisasterRecovery', {
    env: { account: config.account, region: config.drRegion },
    config,
    ledger,
    tags,
    description: 'AOR: disaster recovery workflow (DR region)',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
  return { ledger, incidentResponse, disasterRecovery };
}
