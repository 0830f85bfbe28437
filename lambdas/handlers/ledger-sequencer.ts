import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { type AwsSequencer, awsSequencer } from '../adapters/aws/aws-ledger';
import { logger, metrics, once, taskHandler } from '../shared/task-handler';

/** Scheduled EventBridge events and manual invocations alike: the input carries nothing it needs. */
const sequencerInput = z.unknown();

/**
 * Integrates pending audit records into the tree, signs one checkpoint for the run, then witnesses
 * the other region's log. The witness never fails the run: the other region may be the one that is
 * down, and the next run catches up; a contradiction is recorded in this ledger and logged as an error.
 */
export function createLedgerSequencerHandler(sequencer: () => Promise<AwsSequencer> | AwsSequencer) {
  return taskHandler(sequencerInput, sequencer, async (_input, { ledger, witness, peer }) => {
    const result = await ledger.integrate();
    metrics.addMetric('LedgerEntriesIntegrated', MetricUnit.Count, result.integrated);
    metrics.addMetric('LedgerTreeSize', MetricUnit.Count, result.treeSize);
    metrics.addMetric('LedgerRequestsQuarantined', MetricUnit.Count, result.quarantined.length);
    for (const item of result.quarantined) logger.error('audit record quarantined', { ...item });
    logger.info('ledger integrated', {
      integrated: result.integrated,
      duplicatesSkipped: result.duplicatesSkipped,
      danglingSkipped: result.danglingSkipped,
      treeSize: result.treeSize,
      rootHash: result.rootHash,
      checkpointed: result.checkpoint !== undefined,
    });
    const witnessed = await witness.witness(peer);
    metrics.addMetric('WitnessContradictions', MetricUnit.Count, witnessed.status === 'inconsistent' ? 1 : 0);
    metrics.addMetric('WitnessUnreachable', MetricUnit.Count, witnessed.status === 'unreachable' ? 1 : 0);
    if (witnessed.status === 'inconsistent')
      logger.error('the other region contradicts what this one cosigned', { ...witnessed });
    else logger.info('witnessed the other region', { ...witnessed });
    return {
      integrated: result.integrated,
      quarantined: result.quarantined.length,
      treeSize: result.treeSize,
      rootHash: result.rootHash,
      checkpoint: result.checkpoint?.note,
      witness: witnessed,
    };
  });
}

export const handler = createLedgerSequencerHandler(once(awsSequencer));
