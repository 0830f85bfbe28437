/**
 * The message of a Lambda task's error as Step Functions reports it: its Catch `Cause` (and a
 * failed execution's cause) is the runtime's JSON `{errorType, errorMessage, trace}`.
 */
export function lambdaErrorMessage(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}
