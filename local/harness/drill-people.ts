/**
 * The simulated people of a disaster recovery drill, named as IAM would name them, and who of them
 * answers a real run's routing approval. Kept apart from the drill so the CLI can validate its
 * options without loading the CDK.
 */
export const DRILL_APPROVALS = ['approve', 'reject', 'starter-only', 'none'] as const;
export type DrillApproval = (typeof DRILL_APPROVALS)[number];

/** The simulated people of a drill, as IAM would name them. */
export const DRILL_STARTER = {
  principalId: 'AROADRILLSTARTER:drill-starter',
  principalArn: 'arn:aws-us-gov:sts::111122223333:assumed-role/Operator/drill-starter',
};
export const DRILL_APPROVER = {
  principalId: 'AROADRILLAPPROVER:drill-on-call',
  principalArn: 'arn:aws-us-gov:sts::111122223333:assumed-role/Operator/drill-on-call',
};
