/**
 * The second person on a recovery's routing switch. Nobody holds a token that approves: each
 * decision is an item its author wrote under their own `aws:userid`, which IAM (the runs table's
 * policy) lets nobody else write, so who decided is a fact, not a claim. The switch needs someone
 * other than whoever started the run; when the run was started without saying who (from the
 * console), two different people.
 */

export type Decision = 'approve' | 'reject';

/** A decision as the runs table holds it: its author is the partition IAM let them write. */
export interface ApprovalDecision {
  readonly runId: string;
  /** The author's `aws:userid` (`AROA…:session`), from the item's key. */
  readonly principalId: string;
  /** The author's ARN, as STS told their CLI: informative; the key is what IAM enforced. */
  readonly principalArn: string;
  readonly decision: Decision;
  readonly reason: string;
  readonly at: string;
}

/** Who started a run through `aor dr start`: written, like a decision, under their own user id. */
export interface StartRequest {
  readonly executionName: string;
  readonly principalId: string;
  readonly principalArn: string;
  readonly at: string;
}

export type ApprovalVerdict =
  | { readonly state: 'approved'; readonly approvers: readonly ApprovalDecision[] }
  | { readonly state: 'rejected'; readonly by: ApprovalDecision }
  | { readonly state: 'pending'; readonly approvers: readonly ApprovalDecision[]; readonly needed: number }
  | { readonly state: 'timed-out'; readonly approvers: readonly ApprovalDecision[]; readonly needed: number };

/** An operator refused the routing switch: the run stops before switching. */
export class RoutingSwitchRejectedError extends Error {
  override name = 'RoutingSwitchRejectedError';
}

/** Nobody approved the routing switch in time: the run stops before switching. */
export class ApprovalTimedOutError extends Error {
  override name = 'ApprovalTimedOutError';
}

export interface ApprovalPolicy {
  /** Who started the run, when a start request names them; undefined when nothing does. */
  readonly starter: string | undefined;
  readonly requestedAt: string;
  readonly timeoutSeconds: number;
}

/**
 * Where the approval stands. A rejection by anyone ends it (the starter may withdraw their own
 * run); approvals count once per person, never the starter's; decisions made before the request
 * (a stale item, or one written for a run not yet waiting) count like any other, since the run id
 * names exactly one run.
 */
export function approvalVerdict(
  decisions: readonly ApprovalDecision[],
  policy: ApprovalPolicy,
  now: Date,
): ApprovalVerdict {
  const rejection = decisions.find((d) => d.decision === 'reject');
  if (rejection) return { state: 'rejected', by: rejection };
  const byPerson = new Map<string, ApprovalDecision>();
  for (const decision of decisions) {
    if (decision.decision === 'approve' && decision.principalId !== policy.starter) {
      byPerson.set(decision.principalId, decision);
    }
  }
  const approvers = [...byPerson.values()];
  const needed = policy.starter === undefined ? 2 : 1;
  if (approvers.length >= needed) return { state: 'approved', approvers };
  const waited = (now.getTime() - Date.parse(policy.requestedAt)) / 1000;
  return waited >= policy.timeoutSeconds
    ? { state: 'timed-out', approvers, needed }
    : { state: 'pending', approvers, needed };
}

/** The one starter a run's start requests name: none, or several (a claim nobody can settle), is unknown. */
export function starterOf(requests: readonly StartRequest[]): StartRequest | undefined {
  const people = new Set(requests.map((r) => r.principalId));
  return people.size === 1 ? requests[0] : undefined;
}
