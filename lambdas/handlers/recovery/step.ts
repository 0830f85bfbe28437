import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { awsRecoveryPorts, recoverySettingsFromEnvironment } from '../../adapters/aws/aws-recovery';
import { RecoveryService } from '../../core/recovery/recovery-service';
import { inClusterValidation } from '../../core/recovery/validation';
import type { RecoveryRunState, SiteValidation } from '../../core/recovery/recovery-service';
import { metrics, once, taskHandler } from '../../shared/task-handler';

export interface RecoveryStepDependencies {
  readonly recovery: RecoveryService;
  /** The in-cluster checks of the recovery (node health, endpoint, data integrity). */
  readonly validate: (run: RecoveryRunState, site: SiteValidation) => Promise<Record<string, unknown>>;
}

const run = z.custom<RecoveryRunState>(
  (value) => typeof value === 'object' && value !== null && 'runId' in value,
  'a recovery run',
);
const site = z.custom<SiteValidation>(
  (value) => typeof value === 'object' && value !== null && 'account' in value,
  'a site validation',
);
const poll = z.number().int().min(1).max(3600);

const stepInput = z.discriminatedUnion('operation', [
  z.strictObject({ operation: z.literal('begin'), request: z.unknown(), execution: z.string().min(1) }),
  z.strictObject({ operation: z.literal('validate-site'), run }),
  z.strictObject({ operation: z.literal('start-database-restore'), run, site }),
  z.strictObject({
    operation: z.literal('check-database-restore'),
    run,
    restoreStartedAt: z.string(),
    lastPollSeconds: poll,
  }),
  z.strictObject({ operation: z.literal('start-blockchain-restore'), run, site }),
  z.strictObject({
    operation: z.literal('check-blockchain-restore'),
    run,
    restoreStartedAt: z.string(),
    lastPollSeconds: poll,
  }),
  z.strictObject({ operation: z.literal('apply-applications'), run }),
  z.strictObject({
    operation: z.literal('check-applications'),
    run,
    appliedAt: z.string(),
    lastPollSeconds: poll,
  }),
  z.strictObject({ operation: z.literal('validate-recovery'), run, site }),
  z.strictObject({ operation: z.literal('request-approval'), run, taskToken: z.string().min(1) }),
  z.strictObject({ operation: z.literal('switch-routing'), run }),
  z.strictObject({
    operation: z.literal('check-routing'),
    run,
    switchedAt: z.string(),
    changeId: z.string(),
  }),
  z.strictObject({
    operation: z.literal('finish'),
    run,
    site,
    restores: z.strictObject({ database: z.string().optional(), blockchain: z.string().optional() }),
  }),
  z.strictObject({
    operation: z.literal('compensate'),
    run,
    failedStep: z.string(),
    error: z.looseObject({ Error: z.string(), Cause: z.string().default('') }),
  }),
]);

/**
 * Every step of the disaster recovery workflow, one operation per Task state. They share one
 * function because they share one need: the DR site's RDS, S3, EKS and Route 53, in one role.
 */
export function createRecoveryStepHandler(
  dependencies: () => Promise<RecoveryStepDependencies> | RecoveryStepDependencies,
) {
  return taskHandler(stepInput, dependencies, async (input, { recovery, validate }) => {
    switch (input.operation) {
      case 'begin':
        return recovery.begin(input.request, input.execution);
      case 'validate-site':
        return recovery.validateSite(input.run);
      case 'start-database-restore':
        if (!input.site.snapshot) throw new Error('validate-site found no snapshot to restore');
        return recovery.startDatabaseRestore(input.run, input.site.snapshot);
      case 'check-database-restore':
        return recovery.checkDatabaseRestore(input.run, input.restoreStartedAt, input.lastPollSeconds);
      case 'start-blockchain-restore':
        if (!input.site.backup) throw new Error('validate-site found no blockchain backup to restore');
        return recovery.startBlockchainRestore(input.run, input.site.backup);
      case 'check-blockchain-restore':
        return recovery.checkBlockchainRestore(input.run, input.restoreStartedAt, input.lastPollSeconds);
      case 'apply-applications':
        return recovery.applyApplications(input.run);
      case 'check-applications':
        return recovery.checkApplications(input.run, input.appliedAt, input.lastPollSeconds);
      case 'validate-recovery':
        return recovery.validateRecovery(input.run, input.site, validate);
      case 'request-approval':
        return recovery.requestApproval(input.run, input.taskToken);
      case 'switch-routing':
        return recovery.switchRouting(input.run);
      case 'check-routing':
        return recovery.checkRouting(input.run, input.switchedAt, input.changeId);
      case 'finish': {
        const result = await recovery.finish(input.run, input.site, input.restores);
        // The recovery achieved, as CloudWatch metrics (EMF): dashboards and alarms on RTO/RPO.
        metrics.addDimension('DryRun', String(input.run.request.dryRun));
        metrics.addMetric('RecoveryTimeAchieved', MetricUnit.Seconds, result.rtoSeconds);
        if (result.rpoSeconds !== null)
          metrics.addMetric('RecoveryPointAchieved', MetricUnit.Seconds, result.rpoSeconds);
        metrics.addMetric('RecoveryTimeObjectiveMet', MetricUnit.Count, result.rtoMet ? 1 : 0);
        return result;
      }
      case 'compensate':
        return recovery.compensate(input.run, input.failedStep, input.error);
    }
  });
}

export const handler = createRecoveryStepHandler(
  once(async () => {
    const settings = recoverySettingsFromEnvironment();
    const ports = await awsRecoveryPorts();
    return { recovery: new RecoveryService(ports, settings), validate: inClusterValidation(ports, settings) };
  }),
);
