import type { WorkloadRef } from '../../../lambdas/core/operations/cluster';
import type { DatabaseRef } from '../../../lambdas/core/operations/ports';
import type { PhoenixRooivalkOptions } from '../../../local/simulation/phoenix-rooivalk';
import type { PhoenixRooivalkDrOptions } from '../../../local/simulation/phoenix-rooivalk-dr';
import { SimulatedPlatform } from '../../../local/simulation/platform';
import { SimulatedClock } from '../../../local/workflow/clock';

export const NAMESPACE = 'phoenix-rooivalk';
export const CLUSTER = 'phoenix-rooivalk-production';
export const BLOCKCHAIN: WorkloadRef = { namespace: NAMESPACE, kind: 'StatefulSet', name: 'blockchain-node' };
export const API: WorkloadRef = { namespace: NAMESPACE, kind: 'Deployment', name: 'phoenix-api' };
export const POOLER: WorkloadRef = { namespace: NAMESPACE, kind: 'Deployment', name: 'pgbouncer' };
export const DATABASE: DatabaseRef = { kind: 'instance', identifier: 'phoenix-rooivalk-production' };
export const CONSENSUS = {
  namespace: 'PhoenixRooivalk/Blockchain',
  metricName: 'ConsensusParticipation',
  dimensions: {},
};
export const MINUTE = 60_000;

/** The default world, a clock at its epoch and ports bound to that clock. */
export function phoenixRooivalk(options: PhoenixRooivalkOptions = {}) {
  const platform = SimulatedPlatform.phoenixRooivalk(options);
  const clock = new SimulatedClock(platform.epoch);
  return { platform, clock, ports: platform.ports(clock) };
}

/** The DR site, a clock at its epoch and ports bound to that clock. */
export function drSite(options: PhoenixRooivalkDrOptions = {}) {
  const platform = SimulatedPlatform.phoenixRooivalkDrSite(options);
  const clock = new SimulatedClock(platform.epoch);
  return { platform, clock, ports: platform.ports(clock) };
}

/** What a rejected promise threw, for assertions on named errors. */
export async function thrown(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection');
}
