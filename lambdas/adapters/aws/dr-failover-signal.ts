/**
 * The failover signal of `routing.mode = failover`: a CloudWatch metric in the DR region that the DR
 * run publishes, an alarm on it, and the Route 53 health check the PRIMARY failover record follows.
 * The construct that deploys them (lib/constructs/dr-traffic-failover.ts), the adapter that publishes
 * the datapoint and the simulation that models Route 53 following it all read this one definition.
 * Nothing here imports the CDK or the AWS SDK.
 */
export const FAILOVER_SIGNAL = {
  /** A namespace of its own, so the task's PutMetricData grant (conditioned on it) allows nothing else. */
  namespace: 'AOR/TrafficFailover',
  metricName: 'SendTrafficToDrSite',
  /** One series per record, so that one account's records fail over independently. */
  recordDimension: 'RecordName',
  /** The datapoint that sends traffic to the DR site; an operator fails back by publishing 0. */
  toDrSite: 1,
  /** The alarm's period and threshold: one standard-resolution minute at or above 1 (its Maximum). */
  periodSeconds: 60,
  threshold: 1,
  /**
   * Route 53 follows the alarm's data stream, not its state, so a minute without a datapoint is
   * "insufficient data" to it: the health check then keeps its last status (a new one starts
   * healthy). One datapoint therefore keeps the PRIMARY unhealthy until a 0 is published.
   */
  insufficientDataHealthStatus: 'LastKnownStatus',
} as const;

/** DNS names compare without case and without the root's trailing dot. */
export function canonicalDnsName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The signal's dimensions for a record, as PutMetricData and the alarm both name them. */
export function failoverSignalDimensions(recordName: string): Record<string, string> {
  return { [FAILOVER_SIGNAL.recordDimension]: canonicalDnsName(recordName) };
}

/** The alarm the PRIMARY's health check follows, in the DR region. */
export function failoverAlarmName(recordName: string): string {
  return `aor-dr-traffic-${canonicalDnsName(recordName)}`;
}

/** A failover datapoint in words, as a run records what it published. */
export function describeFailoverDatapoint(recordName: string, at: Date): string {
  const { namespace, metricName, toDrSite } = FAILOVER_SIGNAL;
  return `${namespace} ${metricName} ${canonicalDnsName(recordName)} = ${toDrSite} at ${at.toISOString()}`;
}
