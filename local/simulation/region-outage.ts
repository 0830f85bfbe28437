import type { InjectedFault } from './calls';
import type { SimulatedPlatform } from './platform';

/**
 * Route 53's control plane in GovCloud is homed in us-gov-west-1: the SDK signs Route 53 calls for
 * that region wherever the caller runs, so when that region is down, record changes fail from the
 * DR region too. (Its data plane, the name servers answering queries, is not regional.)
 */
export const ROUTE53_CONTROL_PLANE_REGION = 'us-gov-west-1';

/** Retried connection attempts before the SDK gives up on an endpoint that never answers. */
const UNANSWERED_CALL_MS = 3 * 5_000;

/** A call to an endpoint that never answers, as the SDK reports it after its retries. */
export class EndpointTimeoutError extends Error {
  override name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
}

export interface RegionOutage {
  readonly region: string;
  /** What stops answering, in a sentence for the drill's report. */
  readonly description: string;
  end(): void;
}

/**
 * A region goes dark, seen from the DR site: every simulated service homed there stops answering.
 * The ledgers of the local drills are not part of the platform; the drill takes their region down
 * itself.
 */
export function regionOutage(platform: Pick<SimulatedPlatform, 'injectFault'>, region: string): RegionOutage {
  const faults: InjectedFault[] = [];
  const stopped: string[] = [];
  if (region === ROUTE53_CONTROL_PLANE_REGION) {
    for (const operation of ['switchRecord', 'changeStatus'] as const) {
      faults.push(
        platform.injectFault({
          operation,
          error: () => new EndpointTimeoutError(`connect ETIMEDOUT route53.us-gov.amazonaws.com:443`),
          delayMs: UNANSWERED_CALL_MS,
        }),
      );
    }
    stopped.push("Route 53's control plane");
  }
  return {
    region,
    description:
      stopped.length > 0 ? `${region} is down: ${stopped.join(', ')} does not answer` : `${region} is down`,
    end: () => {
      for (const fault of faults) fault.remove();
    },
  };
}
