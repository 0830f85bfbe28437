/**
 * The disaster recovery stack's contract with the `aor` CLI and the IAM policies: the runs table's
 * items that people write (with their own credentials, under their own `aws:userid`, which the
 * table's resource policy enforces), the index the workflow finds them by, and the stack outputs.
 * Nothing here imports the CDK.
 */

/**
 * | pk | sk | written by |
 * |---|---|---|
 * | `LOCK` | `LOCK` | the workflow: one run at a time |
 * | `RUN#<id>` | `META`, `STEP#…`, `RECORD#…`, `APPROVAL` | the workflow |
 * | `APPROVAL#<aws:userid>` | `<run id>` | a person: their decision on a run's routing switch |
 * | `START#<aws:userid>` | `<execution name>` | a person: "I start this execution" (`aor dr start`) |
 *
 * A person's items carry `subject` (`approval/<run id>`, `start/<execution name>`), the partition
 * key of the `bySubject` index the workflow queries: it learns who decided from each item's `pk`.
 */
export const RUNS_TABLE_KEYS = {
  approvalDecision: (principalId: string) => `APPROVAL#${principalId}`,
  startRequest: (principalId: string) => `START#${principalId}`,
  approvalSubject: (runId: string) => `approval/${runId}`,
  startSubject: (executionName: string) => `start/${executionName}`,
} as const;

/** The index the workflow finds people's items by; its sort key is the author's partition. */
export const RUNS_SUBJECT_INDEX = { name: 'bySubject', partitionKey: 'subject', sortKey: 'pk' } as const;

/** `dynamodb:LeadingKeys` patterns for the people's items: their own user id, filled in by IAM. */
export const PERSON_ITEM_LEADING_KEYS = ['APPROVAL#${aws:userid}', 'START#${aws:userid}'] as const;
/** Every person's items, for the resource policy's deny of someone else's. */
export const PERSON_ITEM_PATTERNS = ['APPROVAL#*', 'START#*'] as const;

export const DR_STACK_NAME = 'AorDisasterRecovery';
export const DR_STACK_OUTPUTS = {
  stateMachineArn: 'StateMachineArn',
  runsTableName: 'RecoveryRunsTableName',
  operatorPolicyArn: 'RecoveryOperatorPolicyArn',
} as const;
