import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { awsSequencedLedger } from '../adapters/aws/aws-ledger';
import type { AuditLedger } from '../core/ledger/ledger';
import { logger, metrics, once, taskHandler } from '../shared/task-handler';

/** Scheduled EventBridge events and manual invocations alike: the input carries nothing it needs. */
const sequencerInput = z.unknown();

/** Integrates pending audit records into the tree and signs one checkpoint for the run. */
export function createLedgerSequencerHandler(ledger: () => Promise<AuditLedger> | AuditLedger) {
  return taskHandler(sequencerInput, ledger, async (_input, sequenced) => {
    const result = await sequenced.integrate();
    metrics.addMetric('LedgerEntriesIntegrated', MetricUnit.Count, result.integrated);
    metrics.addMetric('LedgerTreeSize', MetricUnit.Count, result.treeSize);
    logger.info('ledger integrated', {
      integrated: result.integrated,
      duplicatesSkipped: result.duplicatesSkipped,
      treeSize: result.treeSize,
      rootHash: result.rootHash,
      checkpointed: result.checkpoint !== undefined,
    });
    return {
      integrated: result.integrated,
      treeSize: result.treeSize,
      rootHash: result.rootHash,
      checkpoint: result.checkpoint?.note,
    };
  });
}

export const handler = createLedgerSequencerHandler(once(awsSequencedLedger));
