/**
 * The workflows' state machine names, fixed so that an execution's ARN can be predicted: the
 * ledger's sequencer accepts a workflow's records only from that workflow's executions.
 */
export const INCIDENT_STATE_MACHINE_NAME = 'aor-incident-response';
export const RECOVERY_STATE_MACHINE_NAME = 'aor-disaster-recovery';

/** The ARN prefix every execution of a state machine shares. */
export function executionArnPrefix(
  partition: string,
  region: string,
  account: string,
  stateMachineName: string,
): string {
  return `arn:${partition}:states:${region}:${account}:execution:${stateMachineName}:`;
}
