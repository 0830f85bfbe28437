/**
 * Every duration of the simulated Phoenix Rooivalk platform, in one place. Each is roughly what
 * the real service takes (EKS 1.3x with the VPC CNI, RDS for PostgreSQL, CloudWatch, SNS and S3
 * in GovCloud, called from a Lambda function in the VPC), fixed rather than random so that a drill
 * replays identically; the few that vary do so by a seeded hash of what they concern.
 */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------------
// Kubernetes API (EKS private endpoint)
// ---------------------------------------------------------------------------------------------------

/** A GET or LIST answered by the API server. */
export const KUBERNETES_READ_MS = 60;
/** A PATCH, POST or DELETE: admission and an etcd write make writes slower than reads. */
export const KUBERNETES_WRITE_MS = 120;
/** What a request costs when the endpoint does not answer: the real adapter's request timeout. */
export const KUBERNETES_REQUEST_TIMEOUT_MS = 30 * SECOND;
/** How long after a failed call returns, for an injected fault that names no delay of its own. */
export const FAILED_CALL_MS = 100;

// ---------------------------------------------------------------------------------------------------
// Kubernetes controllers and pods
// ---------------------------------------------------------------------------------------------------

/** From a spec change to its controller acting on it (`observedGeneration` catching up). */
export const CONTROLLER_REACTION_MS = 1 * SECOND;
/** A scheduled pod stays `Pending` (ContainerCreating: sandbox, IP from the VPC CNI) this long. */
export const CONTAINER_CREATING_MS = 3 * SECOND;
/** Each pod's readiness comes up to this much later than its workload's start-up time. */
export const POD_READY_JITTER_MS = 4 * SECOND;
/**
 * A `blockchain-node` pod: ledger open, peers dialled, readiness probe passed. With its termination
 * below, a rolling restart of the 3-replica StatefulSet, one pod at a time, takes 46-58 s.
 */
export const BLOCKCHAIN_NODE_STARTUP_MS = 10 * SECOND;
export const BLOCKCHAIN_NODE_TERMINATION_MS = 5 * SECOND;
/** A `phoenix-api` pod: JVM-free Node service, so ~20 s from scale-up to Ready. */
export const PHOENIX_API_STARTUP_MS = 18 * SECOND;
export const PHOENIX_API_TERMINATION_MS = 2 * SECOND;
/** A `pgbouncer` pod: starts in seconds, then its server pool connects. */
export const PGBOUNCER_STARTUP_MS = 5 * SECOND;
export const PGBOUNCER_TERMINATION_MS = 1 * SECOND;
/** A workload AOR applies that the simulation has no profile for. */
export const DEFAULT_POD_STARTUP_MS = 15 * SECOND;
export const DEFAULT_POD_TERMINATION_MS = 5 * SECOND;
/** The kubelet's crash-loop back-off: 10 s, doubling, capped at 5 minutes. */
export const CRASH_LOOP_INITIAL_BACKOFF_MS = 10 * SECOND;
export const CRASH_LOOP_MAX_BACKOFF_MS = 5 * MINUTE;
/** How long a crash-looping container runs before it exits again. */
export const CRASHED_CONTAINER_RUN_MS = 4 * SECOND;
/** `spec.progressDeadlineSeconds` default: a Deployment making no progress this long has failed. */
export const DEPLOYMENT_PROGRESS_DEADLINE_MS = 10 * MINUTE;
/** kube-apiserver `--event-ttl`: older Events are gone and no forensic capture sees them. */
export const EVENT_TTL_MS = 60 * MINUTE;

// ---------------------------------------------------------------------------------------------------
// Kubernetes Jobs (the DR restore of blockchain data from S3)
// ---------------------------------------------------------------------------------------------------

/** A Job's pod: scheduled, aws-cli image pulled, started. */
export const JOB_POD_STARTUP_MS = 15 * SECOND;
/** What a Job with no S3 transfer in its command takes once started. */
export const JOB_DEFAULT_RUN_MS = 30 * SECOND;
/**
 * `aws s3 sync` from S3 in-region onto a gp3 volume: the volume's 125 MiB/s baseline is the
 * bottleneck, so 200 GiB of blockchain data takes about 28 minutes.
 */
export const S3_SYNC_BYTES_PER_SECOND = 120 * MiB;
/** A failing Job pod (e.g. its S3 prefix is empty) exits this soon after starting. */
export const JOB_FAILED_ATTEMPT_MS = 5 * SECOND;
/** The Job controller's pod-failure back-off: 10 s, doubling, capped at 6 minutes. */
export const JOB_INITIAL_BACKOFF_MS = 10 * SECOND;
export const JOB_MAX_BACKOFF_MS = 6 * MINUTE;

// ---------------------------------------------------------------------------------------------------
// RDS
// ---------------------------------------------------------------------------------------------------

/** DescribeDBInstances, RebootDBInstance, FailoverDBCluster, … */
export const RDS_API_MS = 150;
/** Multi-AZ instance reboot with failover: DNS flips to the standby, `rebooting` until `available`. */
export const RDS_MULTI_AZ_FAILOVER_MIN_MS = 60 * SECOND;
export const RDS_MULTI_AZ_FAILOVER_MAX_MS = 120 * SECOND;
/** Aurora promotes a reader: `failing-over` typically for well under a minute. */
export const AURORA_FAILOVER_MIN_MS = 20 * SECOND;
export const AURORA_FAILOVER_MAX_MS = 40 * SECOND;

// ---------------------------------------------------------------------------------------------------
// CloudWatch, SNS, S3
// ---------------------------------------------------------------------------------------------------

/** One GetMetricData request (a Metrics Insights query over a namespace's pods included). */
export const CLOUDWATCH_GET_METRIC_DATA_MS = 100;
/** ListTagsForResource on an alarm. */
export const CLOUDWATCH_LIST_TAGS_MS = 80;
/** Container Insights, RDS and the platform's own metrics publish one datapoint a minute. */
export const METRIC_PERIOD_MS = 1 * MINUTE;
/** SNS Publish. */
export const SNS_PUBLISH_MS = 50;
/** S3 PutObject of an evidence artifact (kilobytes to a few megabytes). */
export const S3_PUT_MS = 90;

// ---------------------------------------------------------------------------------------------------
// Disaster recovery (the DR site in us-gov-east-1)
// ---------------------------------------------------------------------------------------------------

/**
 * RestoreDBInstanceFromDBSnapshot of the ~200 GiB production database: `creating` while RDS builds
 * the instance and attaches a volume hydrated lazily from the snapshot...
 */
export const RDS_RESTORE_CREATING_MIN_MS = 12 * MINUTE;
export const RDS_RESTORE_CREATING_MAX_MS = 19 * MINUTE;
/** ...then `backing-up` while it takes the new instance's first automated backup: 15-25 minutes in all. */
export const RDS_RESTORE_BACKING_UP_MIN_MS = 3 * MINUTE;
export const RDS_RESTORE_BACKING_UP_MAX_MS = 6 * MINUTE;
/** DeleteDBInstance: `deleting` this long once its final snapshot (if any) is taken, then gone from DescribeDBInstances. */
export const RDS_DELETE_MS = 6 * MINUTE;
/**
 * A delete's final snapshot of a restored or promoted database, taken first while it reads
 * `deleting`: incremental, as the database has taken its first automated backup already.
 */
export const RDS_FINAL_SNAPSHOT_MS = 2 * MINUTE;
/**
 * CopyDBSnapshot of the nightly automated snapshot into the DR region: incremental after the first
 * copy, so tens of minutes rather than hours; the copy reads `copying` until then.
 */
export const RDS_SNAPSHOT_COPY_MIN_MS = 20 * MINUTE;
export const RDS_SNAPSHOT_COPY_MAX_MS = 45 * MINUTE;
/**
 * PromoteReadReplica ("several minutes or longer, depending on the size of the read replica"):
 * `modifying` while replication stops...
 */
export const RDS_PROMOTION_MODIFYING_MIN_MS = 45 * SECOND;
export const RDS_PROMOTION_MODIFYING_MAX_MS = 90 * SECOND;
/** ...`rebooting` (RDS reboots it before making it available), after which it is no longer a replica... */
export const RDS_PROMOTION_REBOOTING_MIN_MS = 60 * SECOND;
export const RDS_PROMOTION_REBOOTING_MAX_MS = 150 * SECOND;
/** ...then `backing-up`: its first backup as a standalone instance, incremental on the replica's own: 3-6 minutes in all. */
export const RDS_PROMOTION_BACKING_UP_MIN_MS = 60 * SECOND;
export const RDS_PROMOTION_BACKING_UP_MAX_MS = 120 * SECOND;
/**
 * CreateDBInstanceReadReplica of the standby (a drill's twin): RDS snapshots the standby
 * (incremental on its automated backups) and builds an instance from it, `creating` until it is up.
 */
export const RDS_REPLICA_CREATING_MIN_MS = 9 * MINUTE;
export const RDS_REPLICA_CREATING_MAX_MS = 14 * MINUTE;
/** A healthy cross-region replica's `ReplicaLag` between the two GovCloud regions: seconds. */
export const RDS_REPLICA_LAG_MIN_SECONDS = 0.5;
export const RDS_REPLICA_LAG_MAX_SECONDS = 4;
/** A same-region cascading replica adds well under a second to its source's lag. */
export const RDS_CASCADING_REPLICA_LAG_SECONDS = 0.3;
/** How long before the drill's epoch the newest blockchain backup was taken. */
export const LATEST_BACKUP_LEAD_MS = 4 * MINUTE;
/** S3 ListObjectsV2 (one page, up to 1,000 keys) and GetObject of a small object such as a manifest. */
export const S3_LIST_MS = 70;
export const S3_GET_MS = 40;
/** ChangeResourceRecordSets, through the partition's one Route 53 endpoint (upsert mode). */
export const ROUTE53_API_MS = 250;
/** A change is `PENDING` until every Route 53 name server has it, then `INSYNC`: typically 30-60 s. */
export const ROUTE53_PROPAGATION_MIN_MS = 30 * SECOND;
export const ROUTE53_PROPAGATION_MAX_MS = 60 * SECOND;
/** PutMetricData of the failover signal at the DR region's CloudWatch endpoint (failover mode). */
export const CLOUDWATCH_PUT_METRIC_DATA_MS = 60;
/**
 * A datapoint reaches alarms, and Route 53's view of an alarm's data stream, a few seconds after
 * PutMetricData accepted it (AWS re:Post: "a few seconds delay for the data to become available to
 * the alarm"); it counts once its one-minute period has ended.
 */
export const CLOUDWATCH_DATAPOINT_DELAY_MS = 5 * SECOND;
/**
 * How often Route 53 re-reads the data stream of the alarm a CLOUDWATCH_METRIC health check follows.
 * Route 53 documents no interval for these checks (RequestInterval and FailureThreshold do not apply:
 * the alarm's one evaluation period is the threshold); modelled at the 30 s standard interval of
 * endpoint checks, the status changing on the first read that shows the new state. Then the VPC
 * resolver's copy of the old answer lives out its TTL: with a 60 s TTL, clients in the DR VPC follow
 * a failover 0.5-2.5 minutes after the datapoint (the minute's end, a read, the TTL).
 */
export const ROUTE53_ALARM_READ_INTERVAL_MS = 30 * SECOND;
/** A DNS query answered by the VPC's resolver (Route 53 Resolver, at the VPC's base address + 2). */
export const VPC_DNS_QUERY_MS = 2;
/** ModifyTargetGroup. */
export const ELB_API_MS = 120;
/** STS GetCallerIdentity at the DR region's endpoint. */
export const STS_API_MS = 80;
/** A validation Job's check once its pod runs: an HTTP request to a Service... */
export const ENDPOINT_CHECK_MS = 2 * SECOND;
/** ...`SELECT count(*)` over each table of the restored database (tens of millions of rows)... */
export const ROW_COUNT_CHECK_MS = 20 * SECOND;
/** ...or an ordered hash over every table's contents. */
export const CHECKSUM_CHECK_MS = 2 * MINUTE;
/** A check that cannot connect (connection refused, unknown host) gives up this soon. */
export const CHECK_CONNECT_FAILURE_MS = 1 * SECOND;

// ---------------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------------

/**
 * How long before the platform's epoch a scenario's fault begins: a CloudWatch alarm over two
 * one-minute periods, then EventBridge delivery, so the workflow starts (at the epoch) with the
 * alarm already firing and the metrics already showing the fault.
 */
export const SCENARIO_LEAD_MS = 3 * MINUTE;
