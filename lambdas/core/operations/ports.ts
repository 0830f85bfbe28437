/**
 * Ports of the operational actions AOR takes on the platform, other than Kubernetes (whose port,
 * `ClusterOperations`, is in `cluster.ts` beside this file).
 * Each has an AWS adapter (SDK v3) and a simulated one for drills and workflow tests.
 */

export type DatabaseKind = 'instance' | 'aurora-cluster';

export interface DatabaseRef {
  readonly kind: DatabaseKind;
  /** DB instance identifier, or Aurora DB cluster identifier. */
  readonly identifier: string;
}

export interface DatabaseHealth {
  readonly identifier: string;
  readonly kind: DatabaseKind;
  /** RDS status string: `available`, `failing-over`, `rebooting`, `storage-full`, … */
  readonly status: string;
  /** True when status is `available` (and, for Aurora, a writer is available). */
  readonly available: boolean;
  readonly multiAz: boolean;
  /** Average of CloudWatch `DatabaseConnections` over the last 5 minutes; undefined with no datapoints. */
  readonly connections?: number;
  /** Aurora: the writer instance id; Multi-AZ instance: undefined. */
  readonly writer?: string;
}

export interface FailoverResult {
  readonly identifier: string;
  readonly kind: DatabaseKind;
  /** `reboot-with-failover` (Multi-AZ instance) or `aurora-failover` (cluster). */
  readonly method: 'reboot-with-failover' | 'aurora-failover';
  /** Aurora: the writer before and the instance promoted (when the target was chosen). */
  readonly previousWriter?: string;
  readonly targetWriter?: string;
}

export interface DatabaseOperations {
  health(database: DatabaseRef): Promise<DatabaseHealth>;
  /** Starts a failover to the standby/replica; returns once RDS has accepted it. */
  failover(database: DatabaseRef): Promise<FailoverResult>;
}

export interface PodCpuUsage {
  readonly podName: string;
  readonly namespace: string;
  /** Average `pod_cpu_utilization` (percent of the node's CPU) over the window. */
  readonly averageCpuPercent: number;
  readonly maximumCpuPercent: number;
}

export interface PodMemoryTrend {
  readonly podName: string;
  readonly namespace: string;
  readonly firstPercent: number;
  readonly lastPercent: number;
  /** Percentage points per hour, least-squares slope of `pod_memory_utilization`. */
  readonly slopePerHour: number;
}

export interface ConsensusParticipation {
  /** Percent of validators that took part in consensus, averaged over the window. */
  readonly participationPercent: number;
  readonly datapoints: number;
}

export interface MetricsReader {
  /** Container Insights `pod_cpu_utilization` per pod, highest average first. */
  topCpuConsumers(query: {
    clusterName: string;
    namespace: string;
    windowMinutes: number;
    limit: number;
  }): Promise<PodCpuUsage[]>;
  /** Container Insights `pod_memory_utilization` trend per pod over the window. */
  memoryTrends(query: {
    clusterName: string;
    namespace: string;
    windowMinutes: number;
  }): Promise<PodMemoryTrend[]>;
  /** The platform's consensus metric (namespace/metric/dimensions from configuration). */
  consensusParticipation(query: {
    namespace: string;
    metricName: string;
    dimensions: Record<string, string>;
    windowMinutes: number;
  }): Promise<ConsensusParticipation>;
}

export interface Notification {
  readonly subject: string;
  /** Plain text body. */
  readonly message: string;
  /** Message attributes subscribers can filter on (severity, incidentId, …). */
  readonly attributes: Record<string, string>;
}

export interface Notifier {
  /** Publishes to the channel's topic; returns the SNS message id. */
  publish(channel: string, notification: Notification): Promise<string>;
}

export interface StoredEvidence {
  /** `s3://bucket/key` (or a file URI locally). */
  readonly uri: string;
  /** Hex SHA-256 of exactly the stored bytes. */
  readonly sha256: string;
  readonly bytes: number;
}

export interface EvidenceStore {
  /** Stores an evidence artifact write-once; the returned hash is what the ledger records. */
  put(key: string, body: Uint8Array, contentType: string): Promise<StoredEvidence>;
}

export interface AlarmTagReader {
  /** The tags of a CloudWatch alarm (an `aor:playbook` tag chooses its playbook). */
  tags(alarmArn: string): Promise<Record<string, string>>;
}
