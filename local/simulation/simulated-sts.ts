import type { SiteIdentity } from '../../lambdas/core/recovery/ports';
import type { OperationRunner } from './calls';
import { STS_API_MS } from './durations';

/** `SiteIdentity`: GetCallerIdentity as the DR tasks' role, in the site's partition. */
export class SimulatedSiteIdentity implements SiteIdentity {
  constructor(
    private readonly identity: { readonly account: string; readonly arn: string },
    private readonly run: OperationRunner,
  ) {}

  whoAmI(): Promise<{ account: string; arn: string }> {
    return this.run('whoAmI', [], async (call) => {
      await call.spend(STS_API_MS);
      return { ...this.identity };
    });
  }
}
