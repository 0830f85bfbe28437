/**
 * Classifying AWS SDK v3 errors. An adapter translates the failures it recognises into named errors (whose
 * `name` Step Functions Retry/Catch match) and lets everything else propagate untouched.
 */

/**
 * The codes with which AWS services refuse a request rate: query-protocol services (RDS, CloudWatch, SNS)
 * answer `Throttling`/`Throttled`, JSON ones `ThrottlingException`, EC2-style APIs `RequestLimitExceeded`,
 * S3 `SlowDown`, and a KMS-encrypted SNS topic `KMSThrottlingException` when KMS is the bottleneck.
 */
const THROTTLING_ERROR_NAMES: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'Throttled',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'KMSThrottlingException',
]);

interface SdkErrorFields {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly $retryable?: { readonly throttling?: unknown };
}

function fields(error: unknown): SdkErrorFields {
  return typeof error === 'object' && error !== null ? (error as SdkErrorFields) : {};
}

/** The error's code as the SDK names it (`DBInstanceNotFoundFault`, `PreconditionFailed`, …). */
export function awsErrorName(error: unknown): string | undefined {
  const { name } = fields(error);
  return typeof name === 'string' ? name : undefined;
}

/** HTTP status of the service's answer; undefined when the request never got one. */
export function httpStatusCode(error: unknown): number | undefined {
  const status = fields(error).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

export function hasAwsErrorName(error: unknown, names: readonly string[]): boolean {
  const name = awsErrorName(error);
  return name !== undefined && names.includes(name);
}

export function awsErrorMessage(error: unknown): string {
  const { message } = fields(error);
  return typeof message === 'string' && message !== '' ? message : String(awsErrorName(error) ?? error);
}

/**
 * Whether the service refused the request rate. The SDK has already retried these with backoff by the time
 * an adapter sees one, so the workflow should wait longer before trying again.
 */
export function isThrottling(error: unknown): boolean {
  const name = awsErrorName(error);
  return (
    (name !== undefined && THROTTLING_ERROR_NAMES.has(name)) ||
    httpStatusCode(error) === 429 ||
    fields(error).$retryable?.throttling === true
  );
}

/** A service kept refusing the request rate; retrying later, with backoff, is expected to succeed. */
export class AwsThrottledError extends Error {
  override name = 'AwsThrottledError';
  readonly retryable = true;
}

/** Sends one request and rethrows its failure as `translate` names it. */
export async function translatingErrors<T>(
  request: () => Promise<T>,
  translate: (error: unknown) => unknown,
): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw translate(error);
  }
}
