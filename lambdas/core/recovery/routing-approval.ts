/**
 * The routing switch's approval, as two steps the state machine polls between: ask (notify the ops
 * channel, note when), then look at the decisions people wrote. No task token exists to be
 * leaked or replayed: a decision counts by who wrote it, which the runs table's policy makes a fact.
 */
import type { Notifier } from '../operations/ports';
import {
  ApprovalTimedOutError,
  approvalVerdict,
  RoutingSwitchRejectedError,
  type ApprovalDecision,
} from './approvals';
import type { RecoveryPlan, RecoveryRequest, RecoverySettings } from './recovery';
import { approvalRequested } from './recovery-notices';
import type { RunRecorder } from './run-recorder';
import type { RecoveryRunStore } from './run-store';

export interface ApprovalRun {
  readonly runId: string;
  readonly execution: string;
  readonly request: RecoveryRequest;
  readonly plan: RecoveryPlan;
  readonly starter: { readonly principalId: string; readonly principalArn: string } | null;
}

export interface RoutingApprovalPorts {
  readonly runs: RecoveryRunStore;
  readonly notifier: Notifier;
  readonly clock: () => Date;
}

export class RoutingApproval {
  constructor(
    private readonly ports: RoutingApprovalPorts,
    private readonly settings: Pick<RecoverySettings, 'routing' | 'approvalTimeoutSeconds'>,
    private readonly recorder: RunRecorder,
  ) {}

  /** Asks the ops channel; a retry keeps the first request's time, so the timeout never restarts. */
  async request(run: ApprovalRun): Promise<{ requestedAt: string; nextPollSeconds: number }> {
    const requestedAt = await this.ports.runs.putApprovalRequest(run.runId, this.ports.clock().toISOString());
    const needed = run.starter ? 1 : 2;
    await this.recorder.recordNotified(
      run,
      'recovery.approval-requested',
      'info',
      {
        record: this.settings.routing.recordName,
        target: this.settings.routing.drTarget,
        approversNeeded: needed,
      },
      { requestedAt },
      () =>
        this.ports.notifier.publish(
          'ops-team',
          approvalRequested(run, this.settings.routing, needed, this.settings.approvalTimeoutSeconds),
        ),
    );
    return { requestedAt, nextPollSeconds: APPROVAL_POLL_SECONDS };
  }

  /**
   * Where the approval stands. Approved: recorded with every approver, and the run goes on. A
   * rejection or the timeout: recorded, and a named error the state machine turns into a stop
   * that keeps what the run restored.
   */
  async check(run: ApprovalRun, requestedAt: string) {
    const decisions = await this.ports.runs.approvalDecisions(run.runId);
    const verdict = approvalVerdict(
      decisions,
      {
        starter: run.starter?.principalId,
        requestedAt,
        timeoutSeconds: this.settings.approvalTimeoutSeconds,
      },
      this.ports.clock(),
    );
    switch (verdict.state) {
      case 'approved':
        await this.recorder.record(
          run,
          'recovery.routing-approved',
          'succeeded',
          {},
          {
            approvers: verdict.approvers.map(who),
          },
        );
        return {
          approved: true,
          approvers: verdict.approvers.map((d) => d.principalArn),
          nextPollSeconds: 0,
        };
      case 'pending':
        return {
          approved: false,
          approvers: verdict.approvers.map((d) => d.principalArn),
          nextPollSeconds: APPROVAL_POLL_SECONDS,
        };
      case 'rejected':
        await this.recorder.record(run, 'recovery.routing-rejected', 'failed', {}, { by: who(verdict.by) });
        throw new RoutingSwitchRejectedError(
          `rejected by ${verdict.by.principalArn}: ${verdict.by.reason || 'no reason given'}`,
        );
      case 'timed-out':
        await this.recorder.record(
          run,
          'recovery.approval-timed-out',
          'failed',
          {},
          {
            approvers: verdict.approvers.map(who),
            needed: verdict.needed,
          },
        );
        throw new ApprovalTimedOutError(
          `no approval in ${Math.round(this.settings.approvalTimeoutSeconds / 60)} minutes (${verdict.approvers.length} of ${verdict.needed} approvers)`,
        );
    }
  }
}

/** How often the workflow looks for decisions while it waits. */
export const APPROVAL_POLL_SECONDS = 30;

function who(decision: ApprovalDecision): Record<string, string> {
  return { principalId: decision.principalId, principalArn: decision.principalArn, at: decision.at };
}
