import type { ActionName } from '../../lambdas/core/incident/playbooks';
import type { ClusterOperations, WorkloadRef } from '../../lambdas/core/operations/cluster';
import type {
  AlarmTagReader,
  DatabaseOperations,
  DatabaseRef,
  EvidenceStore,
  MetricsReader,
  Notifier,
} from '../../lambdas/core/operations/ports';
import type {
  BackupCatalog,
  DatabaseRecovery,
  SiteIdentity,
  TrafficRouting,
} from '../../lambdas/core/recovery/ports';
import { RECOVERY_RUN_TAG } from '../../lambdas/core/recovery/recovery';
import type { WorkflowClock } from '../workflow/clock';
import { injectActionFault } from './action-faults';
import {
  type CallRecord,
  FaultRegistry,
  type FaultSpec,
  type InjectedFault,
  operationRunner,
  type PortOperation,
} from './calls';
import { SCENARIO_LEAD_MS } from './durations';
import type { JobAttempt } from './kubernetes-jobs';
import type { PodRecord } from './kubernetes-model';
import { KubernetesWorld } from './kubernetes-world';
import {
  BLOCKCHAIN_CRASH_LINES,
  type PhoenixRooivalkOptions,
  PLAYBOOK_ALARMS,
  phoenixRooivalkOptions,
  populatePhoenixRooivalk,
} from './phoenix-rooivalk';
import {
  type PhoenixRooivalkDrOptions,
  phoenixRooivalkDrOptions,
  populatePhoenixRooivalkDrSite,
} from './phoenix-rooivalk-dr';
import {
  type InjectedStepFailure,
  injectRecoveryStepFailure,
  type RecoveryStep,
  type StepFailureOptions,
} from './recovery-faults';
import {
  type ConsensusMetricDefinition,
  SimulatedAlarmTags,
  SimulatedMetricsReader,
} from './simulated-cloudwatch';
import { SimulatedClusterOperations } from './simulated-cluster';
import { type EvidenceObject, SimulatedEvidenceStore } from './simulated-evidence';
import { RdsWorld, SimulatedDatabaseOperations } from './simulated-rds';
import { RdsRecoveryWorld, SimulatedDatabaseRecovery } from './simulated-rds-recovery';
import { type RecordSet, Route53World, SimulatedTrafficRouting } from './simulated-route53';
import { S3World, SimulatedBackupCatalog } from './simulated-s3';
import { type OutboxMessage, SimulatedNotifier } from './simulated-sns';
import { SimulatedSiteIdentity } from './simulated-sts';

/**
 * The simulated Phoenix Rooivalk platform AOR's drills and workflow tests run against: one shared,
 * mutable world (cluster, RDS, CloudWatch, SNS, evidence bucket, backups; at a DR site also snapshot
 * copies, restores and the Route 53 record to switch) and, for each clock that
 * calls it, a set of port adapters whose calls spend simulated time on that clock. The workflow
 * runner forks a clock per Parallel branch and Map item and hands each task its own, so adapters
 * are made per clock (`ports(clock)`) and never outlive the task that asked for them.
 */

export interface SimulatedPorts {
  readonly cluster: ClusterOperations;
  readonly database: DatabaseOperations;
  readonly metrics: MetricsReader;
  readonly notifier: Notifier;
  readonly evidence: EvidenceStore;
  readonly tags: AlarmTagReader;
  /** The disaster recovery's ports: RDS restores, the backup bucket, Route 53 and ELB, STS. */
  readonly recovery: DatabaseRecovery;
  readonly backups: BackupCatalog;
  readonly routing: TrafficRouting;
  readonly identity: SiteIdentity;
}

/** Which workload, Service, database and metric play which part, as `ActionSettings` names them. */
export interface PlatformLayout {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly clusterName: string;
  readonly namespace: string;
  readonly blockchainWorkload: WorkloadRef;
  readonly peerService: string;
  readonly scaleTarget: WorkloadRef;
  readonly connectionPooler: WorkloadRef;
  readonly database: DatabaseRef;
  readonly consensusMetric: Omit<ConsensusMetricDefinition, 'validators' | 'healthyPercent'>;
  readonly alarmNamePrefix: string;
}

export interface PlatformOptions {
  readonly layout: PlatformLayout;
  /** The drill's start: scenarios begin just before it. */
  readonly epoch: number;
  /** Varies the world's pseudo-random details (jitter, metric noise, ids); same seed, same drill. */
  readonly seed: string;
  readonly channels: readonly string[];
  readonly nodes: KubernetesWorld['nodes'];
  readonly podsPerNode: number;
  readonly profiles: KubernetesWorld['profiles'];
  /** Evidence is also written under this directory (file:// URIs); in memory only when unset. */
  readonly evidenceDirectory?: string;
  /** The tag marking what a recovery run restored (the RDS adapter's `managedTagKey`); `aor:recovery-run`. */
  readonly recoveryTagKey?: string;
  /** The IAM role the tasks run as, which STS names; `aor-tasks` by default. */
  readonly taskRole?: string;
}

/** An alarm the scenario makes fire, with what a drill needs to build its state-change event. */
export interface ScenarioAlarm {
  readonly alarmName: string;
  readonly alarmArn: string;
  /** When the fault began. */
  readonly startedAt: number;
  readonly reason: string;
  readonly metrics: readonly { namespace: string; name: string; dimensions: Record<string, string> }[];
}

/** A scenario asked for something the world does not have. */
export class ScenarioSetupError extends Error {
  override name = 'ScenarioSetupError';
}

export class SimulatedPlatform {
  readonly kubernetes: KubernetesWorld;
  readonly rds: RdsWorld;
  /** Snapshot copies and restores from them (the DR region's RDS). */
  readonly rdsRecovery: RdsRecoveryWorld;
  readonly s3 = new S3World();
  readonly route53: Route53World;
  readonly layout: PlatformLayout;
  readonly epoch: number;
  readonly seed: string;
  /** Every port call, on whichever clock made it, in the order they finished. */
  readonly calls: CallRecord[] = [];
  private readonly faults = new FaultRegistry();
  private readonly consensusMetrics: ConsensusMetricDefinition[] = [];
  private readonly channels: ReadonlySet<string>;
  private readonly messages: OutboxMessage[] = [];
  private readonly evidenceObjects = new Map<string, EvidenceObject>();
  private readonly alarmTags = new Map<string, Record<string, string>>();
  private readonly evidenceDirectory: string | undefined;
  private readonly callerArn: string;

  constructor(options: PlatformOptions) {
    this.layout = options.layout;
    this.epoch = options.epoch;
    this.seed = options.seed;
    this.channels = new Set(options.channels);
    this.evidenceDirectory = options.evidenceDirectory;
    this.kubernetes = new KubernetesWorld(
      options.seed,
      options.nodes,
      options.podsPerNode,
      options.profiles,
      {
        readS3: (uri) => this.s3.readFromPod(uri),
        bucketExists: (bucket) => this.s3.hasBucket(bucket),
        database: (host, t) => this.rdsRecovery.connect(host, t),
      },
    );
    this.rds = new RdsWorld(options.seed);
    const { partition, account } = options.layout;
    this.rdsRecovery = new RdsRecoveryWorld(
      this.rds,
      options.layout,
      options.seed,
      options.recoveryTagKey ?? RECOVERY_RUN_TAG,
    );
    this.route53 = new Route53World(options.seed);
    const role = options.taskRole ?? 'aor-tasks';
    this.callerArn = `arn:${partition}:sts::${account}:assumed-role/${role}/${role}`;
  }

  /** The Phoenix Rooivalk production site as the deployment configuration describes it (phoenix-rooivalk.ts). */
  static phoenixRooivalk(options: PhoenixRooivalkOptions = {}): SimulatedPlatform {
    const platform = new SimulatedPlatform(phoenixRooivalkOptions(options));
    populatePhoenixRooivalk(platform);
    return platform;
  }

  /**
   * The Phoenix Rooivalk DR site (phoenix-rooivalk-dr.ts): the DR cluster with an empty namespace,
   * snapshot copies and blockchain backups for the last week and from just before the epoch, and
   * the Route 53 record still on the production site.
   */
  static phoenixRooivalkDrSite(options: PhoenixRooivalkDrOptions = {}): SimulatedPlatform {
    const platform = new SimulatedPlatform(phoenixRooivalkDrOptions(options));
    populatePhoenixRooivalkDrSite(platform, options);
    return platform;
  }

  /** Port adapters whose calls spend time on `clock`; make them per task invocation. */
  ports(clock: WorkflowClock): SimulatedPorts {
    const run = operationRunner(clock, this.faults, this.calls);
    return {
      cluster: new SimulatedClusterOperations(this.kubernetes, run),
      database: new SimulatedDatabaseOperations(this.rds, run),
      metrics: new SimulatedMetricsReader(
        this.kubernetes,
        this.layout.clusterName,
        this.consensusMetrics,
        run,
      ),
      notifier: new SimulatedNotifier(this.channels, this.messages, this.seed, run),
      evidence: new SimulatedEvidenceStore(this.evidenceObjects, this.evidenceDirectory, run),
      tags: new SimulatedAlarmTags(this.alarmTags, run),
      recovery: new SimulatedDatabaseRecovery(this.rdsRecovery, run),
      backups: new SimulatedBackupCatalog(this.s3, run),
      routing: new SimulatedTrafficRouting(this.route53, this.layout.region, run),
      identity: new SimulatedSiteIdentity({ account: this.layout.account, arn: this.callerArn }, run),
    };
  }

  // -------------------------------------------------------------------------------------------------
  // Faults
  // -------------------------------------------------------------------------------------------------

  /** Makes calls of a port operation throw, e.g. `{ operation: 'restartWorkload', error: () => … }`. */
  injectFault<O extends PortOperation>(spec: FaultSpec<O>): InjectedFault {
    return this.faults.add(spec);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Makes a playbook action fail the way it plausibly fails for real (see action-faults.ts). */
  failAction(action: ActionName, options: { times?: number } = {}): InjectedFault {
    return injectActionFault(this, action, options);
  }

  /** Makes a disaster recovery step fail the way it plausibly fails for real (see recovery-faults.ts). */
  failRecoveryStep(step: RecoveryStep, options: StepFailureOptions = {}): InjectedStepFailure {
    return injectRecoveryStepFailure(this, step, options);
  }

  // -------------------------------------------------------------------------------------------------
  // Scenarios: each sets up one playbook's incident, begun SCENARIO_LEAD_MS before the epoch.
  // -------------------------------------------------------------------------------------------------

  /**
   * A blockchain node stalls and crash-loops: not ready, peers 2/3, consensus participation down by
   * a third. A rolling restart replaces the pod and heals it, unless `persistent` (its volume's data
   * is corrupt), when every replacement crash-loops too and the rollout never finishes.
   */
  breakBlockchainNode(options: { pod?: string; at?: number; persistent?: boolean } = {}): ScenarioAlarm {
    const at = options.at ?? this.epoch - SCENARIO_LEAD_MS;
    const { blockchainWorkload, namespace } = this.layout;
    const pod = this.pod(options.pod ?? `${blockchainWorkload.name}-1`, at);
    pod.crash = { at, lines: BLOCKCHAIN_CRASH_LINES };
    if (options.persistent && pod.ordinal !== null) {
      pod.workload.crashingOrdinals.set(pod.ordinal, BLOCKCHAIN_CRASH_LINES);
    }
    return this.scenarioAlarm(
      PLAYBOOK_ALARMS.blockchain.suffix,
      at,
      `Threshold Crossed: 1 out of the last 2 datapoints [0.0] was less than the threshold (1.0)`,
      [
        {
          namespace: 'PhoenixRooivalk/Blockchain',
          name: 'NodeReady',
          dimensions: { Namespace: namespace, PodName: pod.name },
        },
      ],
    );
  }

  /** CPU demand on the scale target multiplies (2.4× by default); more replicas spread it thinner. */
  saturateCpu(options: { factor?: number; at?: number } = {}): ScenarioAlarm {
    const at = options.at ?? this.epoch - SCENARIO_LEAD_MS;
    const { scaleTarget, clusterName, namespace } = this.layout;
    const workload = this.kubernetes.workload(scaleTarget);
    if (!workload) throw new ScenarioSetupError(`no ${scaleTarget.kind} ${scaleTarget.name} to saturate`);
    workload.load.push({ from: at, factor: options.factor ?? 2.4 });
    workload.load.sort((a, b) => a.from - b.from);
    return this.scenarioAlarm(
      PLAYBOOK_ALARMS.cpu.suffix,
      at,
      'Threshold Crossed: 2 datapoints were greater than the threshold (85.0)',
      [
        {
          namespace: 'ContainerInsights',
          name: 'pod_cpu_utilization',
          dimensions: { ClusterName: clusterName, Namespace: namespace, PodName: scaleTarget.name },
        },
      ],
    );
  }

  /** Intruders on these pods: their logs show it from `at`; isolation and forensics act on them. */
  breachPods(podNames?: readonly string[], options: { at?: number } = {}): ScenarioAlarm {
    const at = options.at ?? this.epoch - SCENARIO_LEAD_MS;
    const { blockchainWorkload, namespace } = this.layout;
    const pods = (podNames ?? [`${blockchainWorkload.name}-1`]).map((name) => this.pod(name, at));
    for (const pod of pods) pod.breachedAt = at;
    return this.scenarioAlarm(
      PLAYBOOK_ALARMS.security.suffix,
      at,
      'Threshold Crossed: 1 datapoint was greater than or equal to the threshold (1.0)',
      pods.map((pod) => ({
        namespace: 'PhoenixRooivalk/Security',
        name: 'IntrusionSignals',
        dimensions: { Namespace: namespace, PodName: pod.name },
      })),
    );
  }

  /**
   * Clients lose their database connections (stale server connections in the pooler): connections
   * read 0 until a restart of the pooler completes or a failover of the database does.
   */
  dropDatabaseConnections(options: { at?: number } = {}): ScenarioAlarm {
    const at = options.at ?? this.epoch - SCENARIO_LEAD_MS;
    const { database, connectionPooler } = this.layout;
    this.rds.addOutage(database, {
      at,
      healedAt: () => {
        const completions = (this.kubernetes.workload(connectionPooler)?.rollouts ?? [])
          .filter((rollout) => ['restart', 'apply'].includes(rollout.reason) && rollout.startedAt >= at)
          .flatMap((rollout) => (rollout.completedAt === null ? [] : [rollout.completedAt]));
        return completions.length === 0 ? null : Math.min(...completions);
      },
    });
    const dimension = database.kind === 'instance' ? 'DBInstanceIdentifier' : 'DBClusterIdentifier';
    return this.scenarioAlarm(
      PLAYBOOK_ALARMS.database.suffix,
      at,
      'Threshold Crossed: 2 datapoints were less than the threshold (1.0)',
      [
        {
          namespace: 'AWS/RDS',
          name: 'DatabaseConnections',
          dimensions: { [dimension]: database.identifier },
        },
      ],
    );
  }

  /** The cluster's API endpoint stops (or resumes) answering: every call times out. */
  setClusterReachable(reachable: boolean): void {
    this.kubernetes.reachable = reachable;
  }

  // -------------------------------------------------------------------------------------------------
  // What the world holds
  // -------------------------------------------------------------------------------------------------

  /** Published messages, oldest first; one channel's when named. */
  outbox(channel?: string): readonly OutboxMessage[] {
    return channel === undefined
      ? [...this.messages]
      : this.messages.filter((message) => message.channel === channel);
  }

  evidence(key: string): EvidenceObject | undefined {
    return this.evidenceObjects.get(key);
  }

  evidenceKeys(): string[] {
    return [...this.evidenceObjects.keys()].sort();
  }

  alarmArn(alarmName: string): string {
    const { partition, region, account } = this.layout;
    return `arn:${partition}:cloudwatch:${region}:${account}:alarm:${alarmName}`;
  }

  /** Registers (or re-tags) a CloudWatch alarm; returns its ARN. */
  defineAlarm(alarmName: string, tags: Record<string, string> = {}): string {
    const arn = this.alarmArn(alarmName);
    this.alarmTags.set(arn, { ...tags });
    return arn;
  }

  addConsensusMetric(metric: ConsensusMetricDefinition): void {
    this.consensusMetrics.push(metric);
  }

  /** Stores an object in the simulated S3 (`s3://bucket/key`), as the backups Jobs restore from. */
  putS3Object(uri: string, bytes: number, lastModified = this.epoch): void {
    this.s3.put(uri, { bytes, lastModified });
  }

  /** Stores a small text object, such as an integrity manifest, that readers parse. */
  putS3Text(uri: string, body: string, lastModified = this.epoch): void {
    this.s3.put(uri, { bytes: Buffer.byteLength(body), lastModified, body });
  }

  /**
   * The record Route 53's name servers answer at `at` (of a failover pair, the member its health check
   * selects); without `at`, once every failover datapoint and record change so far has taken effect.
   */
  route53Record(hostedZoneId: string, recordName: string, at?: number): RecordSet | undefined {
    return this.route53.record(hostedZoneId, recordName, at);
  }

  /**
   * How a Job's last attempt ends: its exit code, termination message (a failed container's log
   * tail), why its pod never ran if it did not, and its log, as planned when it was created;
   * undefined for a Job that does not exist or never got a pod.
   */
  jobResult(
    namespace: string,
    name: string,
  ):
    | (Pick<JobAttempt, 'exitCode' | 'terminationMessage' | 'pendingReason' | 'waiting' | 'startError'> & {
        log: string[];
      })
    | undefined {
    const attempt = this.kubernetes.job(namespace, name)?.attempts.at(-1);
    if (!attempt) return undefined;
    const { exitCode, terminationMessage, pendingReason, waiting, startError } = attempt;
    return {
      exitCode,
      terminationMessage,
      pendingReason,
      waiting,
      startError,
      log: attempt.log.map((line) => line.text),
    };
  }

  /** The namespace's pod of that name at `at` (the epoch by default), to set a scenario up on. */
  pod(name: string, at = this.epoch): PodRecord {
    const pod = this.kubernetes.podAt(this.layout.namespace, name, at);
    if (!pod)
      throw new ScenarioSetupError(
        `no pod ${this.layout.namespace}/${name} at ${new Date(at).toISOString()}`,
      );
    return pod;
  }

  private scenarioAlarm(
    suffix: string,
    startedAt: number,
    reason: string,
    metrics: ScenarioAlarm['metrics'],
  ): ScenarioAlarm {
    const alarmName = `${this.layout.alarmNamePrefix}${suffix}`;
    return { alarmName, alarmArn: this.alarmArn(alarmName), startedAt, reason, metrics };
  }
}
