import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { SiteIdentity } from '../../core/recovery/ports';
import { AwsThrottledError, awsErrorMessage, isThrottling, translatingErrors } from './aws-errors';

/**
 * Asks STS who the caller is. That proves the DR region answers only because SDK v3 calls the STS endpoint of
 * the client's own region (never the global one), so the client must be built for the DR region.
 */
export class StsSiteIdentity implements SiteIdentity {
  constructor(private readonly sts: STSClient) {}

  async whoAmI(): Promise<{ account: string; arn: string }> {
    const identity = await translatingErrors(
      () => this.sts.send(new GetCallerIdentityCommand({})),
      (error) =>
        isThrottling(error)
          ? new AwsThrottledError(`STS throttled GetCallerIdentity: ${awsErrorMessage(error)}`, {
              cause: error,
            })
          : error,
    );
    // STS answers every authenticated call with both; the SDK merely types them optional.
    return { account: identity.Account ?? '', arn: identity.Arn ?? '' };
  }
}
