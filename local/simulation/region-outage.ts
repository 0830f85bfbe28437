import type { SimulatedPlatform } from './platform';

/** Retried connection attempts before the SDK gives up on an endpoint that never answers. */
export const UNANSWERED_CALL_MS = 3 * 5_000;

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
 * For us-gov-west-1 that includes Route 53's control plane, which GovCloud homes there wherever the
 * caller runs, so record changes fail from the DR region too; Route 53's data plane (name servers,
 * health checks) and the other region's CloudWatch and resolver keep answering. The ledgers of the
 * local drills are not part of the platform; the drill takes their region down itself.
 */
export function regionOutage(platform: Pick<SimulatedPlatform, 'route53'>, region: string): RegionOutage {
  platform.route53.setRegionReachable(region, false);
  return {
    region,
    description: `${region} is down: ${platform.route53.servicesIn(region).join(', ')} do not answer`,
    end: () => platform.route53.setRegionReachable(region, true),
  };
}
