import { describe, expect, it } from 'vitest';
import { awsErrorMessage, isThrottling } from '../../../lambdas/adapters/aws/aws-errors';

const named = (name: string, extra: object = {}) =>
  Object.assign(new Error(`${name} happened`), { name, ...extra });

describe('isThrottling', () => {
  it.each([
    ['Throttling (RDS, CloudWatch)', named('Throttling')],
    ['ThrottlingException (JSON protocols)', named('ThrottlingException')],
    ['ThrottledException (SNS)', named('ThrottledException')],
    ['RequestLimitExceeded', named('RequestLimitExceeded')],
    ['SlowDown (S3)', named('SlowDown')],
    ['KMSThrottlingException (encrypted SNS topic)', named('KMSThrottlingException')],
    ['HTTP 429', named('Unknown', { $metadata: { httpStatusCode: 429 } })],
    ['the SDK flagging throttling', named('Unknown', { $retryable: { throttling: true } })],
  ])('recognises %s', (_, error) => {
    expect(isThrottling(error)).toBe(true);
  });

  it.each([
    ['a validation error', named('ValidationError', { $metadata: { httpStatusCode: 400 } })],
    ['a server error', named('InternalFailure', { $metadata: { httpStatusCode: 500 } })],
    ['a retryable non-throttling error', named('Unknown', { $retryable: { throttling: false } })],
    ['a string', 'Throttling'],
    ['undefined', undefined],
  ])('does not mistake %s for throttling', (_, error) => {
    expect(isThrottling(error)).toBe(false);
  });
});

describe('awsErrorMessage', () => {
  it('falls back to the error name when the message is empty', () => {
    expect(awsErrorMessage(Object.assign(new Error(''), { name: 'Throttling' }))).toBe('Throttling');
    expect(awsErrorMessage(named('Throttling'))).toBe('Throttling happened');
  });
});
