import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { StsSiteIdentity } from '../../../lambdas/adapters/aws/sts-site-identity';

const sts = mockClient(STSClient);
const identity = new StsSiteIdentity(new STSClient({ region: 'us-gov-east-1' }));
const ROLE_ARN = 'arn:aws-us-gov:sts::123456789012:assumed-role/aor-dr-validate-site/aor-dr-validate-site';

beforeEach(() => {
  sts.reset();
});

describe('StsSiteIdentity.whoAmI', () => {
  it('returns the account and ARN from GetCallerIdentity', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: '123456789012', Arn: ROLE_ARN, UserId: 'AROAEXAMPLE:aor' });

    await expect(identity.whoAmI()).resolves.toEqual({ account: '123456789012', arn: ROLE_ARN });
    expect(sts).toHaveReceivedCommandWith(GetCallerIdentityCommand, {});
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
  });

  it('maps throttling to the retryable AwsThrottledError and lets other failures through', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(identity.whoAmI()).rejects.toMatchObject({ name: 'AwsThrottledError', retryable: true });

    const expired = Object.assign(new Error('The security token included in the request is expired'), {
      name: 'ExpiredTokenException',
    });
    sts.on(GetCallerIdentityCommand).rejects(expired);
    await expect(identity.whoAmI()).rejects.toBe(expired);
  });
});
