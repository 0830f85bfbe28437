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
const databaseProgress = z.looseObject({
  phase: z.enum(['restore', 'rehearsal', 'promotion']),
  startedAt: z.string(),
  recoveryPoint: z.string().nullable(),
  preparationSeconds: z.number().nonnegative(),
  status: z.string(),
  available: z.boolean(),
  nextPollSeconds: poll,
});
const blockchainProgress = z.looseObject({
  startedAt: z.string(),
  recoveryPoint: z.string(),
  complete: z.boolean(),
  nextPollSeconds: poll,
});

const stepInput = z.discriminatedUnion('operation', [
  z.strictObject({ operation: z.literal('begin'), request: z.unknown(), execution: z.string().min(1) }),
  z.strictObject({ operation: z.literal('release-failed-start'), execution: z.string().min(1) }),
  z.strictObject({ operation: z.literal('validate-site'), run }),
  z.strictObject({ operation: z.literal('start-database'), run, site }),
  z.strictObject({ operation: z.literal('check-database'), run, progress: databaseProgress }),
  z.strictObject({ operation: z.literal('start-blockchain-restore'), run, site }),
  z.strictObject({ operation: z.literal('check-blockchain-restore'), run, progress: blockchainProgress }),
  z.strictObject({ operation: z.literal('apply-applications'), run }),
  z.strictObject({
    operation: z.literal('check-applications'),
    run,
    appliedAt: z.string(),
    lastPollSeconds: poll,
  }),
  z.strictObject({ operation: z.literal('validate-recovery'), run, site }),
  z.strictObject({ operation: z.literal('request-approval'), run }),
  z.strictObject({ operation: z.literal('check-approval'), run, requestedAt: z.string() }),
  z.strictObject({
    operation: z.literal('abandon'),
    runId: z.string().min(1).max(128),
    execution: z.string().min(1),
  }),
  z.strictObject({ operation: z.literal('switch-routing'), run }),
  z.strictObject({ operation: z.literal('check-routing'), run, switchedAt: z.string() }),
  z.strictObject({
    operation: z.literal('finish'),
    run,
    restores: z.strictObject({
      database: databaseProgress.optional(),
      blockchain: blockchainProgress.optional(),
    }),
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
      case 'start-database':
        return recovery.startDatabase(input.run, input.site);
      case 'check-database':
        return recovery.checkDatabase(input.run, input.progress);
      case 'start-blockchain-restore':
        return recovery.startBlockchainRestore(input.run, input.site);
      case 'check-blockchain-restore':
        return recovery.checkBlockchainRestore(input.run, input.progress);
      case 'apply-applications':
        return recovery.applyApplications(input.run);
      case 'check-applications':
        return recovery.checkApplications(input.run, input.appliedAt, input.lastPollSeconds);
      case 'validate-recovery':
        return recovery.validateRecovery(input.run, input.site, validate);
      case 'request-approval':
        return recovery.requestApproval(input.run);
      case 'check-approval':
        return recovery.checkApproval(input.run, input.requestedAt);
      case 'abandon':
        return recovery.abandon(input.runId, input.execution);
      case 'release-failed-start':
        return recovery.releaseFailedStart(input.execution);
      case 'switch-routing':
        return recovery.switchRouting(input.run);
      case 'check-routing':
        return recovery.checkRouting(input.run, input.switchedAt);
      case 'finish': {
        const result = await recovery.finish(input.run, input.restores);
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
