/**
 * The incident response playbooks: which alarm means what, how severe it is, who is told, what is
 * done automatically and how soon it escalates. Data, validated when this module loads, so a bad
 * edit fails the tests and the synth rather than an incident.
 */
import * as z from 'zod';

export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Channels the playbooks notify; each is an SNS topic (`aor-<channel>`). */
export const CHANNELS = [
  'ops-team',
  'blockchain-team',
  'security-team',
  'database-team',
  'incident-commander',
  'leadership',
] as const;
export type Channel = (typeof CHANNELS)[number];

/** Who is told when nobody acknowledges in time: first the incident commander, then leadership. */
export const ESCALATION_TIERS: readonly Channel[] = ['incident-commander', 'leadership'];

/** Every automated action AOR can take; each has a real adapter behind it (see actions.ts). */
export const ACTIONS = [
  'restart_blockchain_node',
  'check_peer_connectivity',
  'verify_consensus_participation',
  'scale_up_resources',
  'analyze_resource_usage',
  'check_for_resource_leaks',
  'isolate_affected_systems',
  'capture_forensic_evidence',
  'notify_security_team',
  'restart_database_connections',
  'check_database_health',
  'failover_to_secondary',
] as const;
export type ActionName = (typeof ACTIONS)[number];

export const PLAYBOOK_IDS = [
  'blockchain_node_down',
  'high_cpu_utilization',
  'security_breach_detected',
  'database_connection_failure',
  'unknown_incident',
] as const;
export type PlaybookId = (typeof PLAYBOOK_IDS)[number];

const playbookSchema = z.strictObject({
  id: z.enum(PLAYBOOK_IDS),
  title: z.string().min(1),
  severity: z.enum(SEVERITIES),
  /** Seconds without acknowledgement before the next escalation tier is notified. */
  escalationSeconds: z.number().int().min(30).max(86_400),
  actions: z.array(z.enum(ACTIONS)).max(10),
  channels: z.array(z.enum(CHANNELS)).min(1),
  runbookUrl: z.url(),
  assignee: z.enum(CHANNELS),
});
export type Playbook = z.infer<typeof playbookSchema>;

const RUNBOOKS = 'https://runbooks.phoenixrooivalk.mil';

/** The seed's playbooks (operations playbook §2.2), with the seed's severities and timings. */
export const PLAYBOOKS: Readonly<Record<PlaybookId, Playbook>> = Object.freeze(
  Object.fromEntries(
    [
      {
        id: 'blockchain_node_down',
        title: 'Blockchain node down',
        severity: 'HIGH',
        escalationSeconds: 300,
        actions: ['restart_blockchain_node', 'check_peer_connectivity', 'verify_consensus_participation'],
        channels: ['ops-team', 'blockchain-team'],
        runbookUrl: `${RUNBOOKS}/blockchain-node-down`,
        assignee: 'blockchain-team',
      },
      {
        id: 'high_cpu_utilization',
        title: 'High CPU utilization',
        severity: 'MEDIUM',
        escalationSeconds: 900,
        actions: ['scale_up_resources', 'analyze_resource_usage', 'check_for_resource_leaks'],
        channels: ['ops-team'],
        runbookUrl: `${RUNBOOKS}/high-cpu-utilization`,
        assignee: 'ops-team',
      },
      {
        id: 'security_breach_detected',
        title: 'Security breach detected',
        severity: 'CRITICAL',
        escalationSeconds: 60,
        actions: ['isolate_affected_systems', 'capture_forensic_evidence', 'notify_security_team'],
        channels: ['security-team', 'incident-commander', 'leadership'],
        runbookUrl: `${RUNBOOKS}/security-breach`,
        assignee: 'security-team',
      },
      {
        id: 'database_connection_failure',
        title: 'Database connection failure',
        severity: 'HIGH',
        escalationSeconds: 180,
        actions: ['restart_database_connections', 'check_database_health', 'failover_to_secondary'],
        channels: ['ops-team', 'database-team'],
        runbookUrl: `${RUNBOOKS}/database-failure`,
        assignee: 'database-team',
      },
      {
        id: 'unknown_incident',
        title: 'Unclassified alarm',
        severity: 'MEDIUM',
        escalationSeconds: 900,
        actions: [],
        channels: ['ops-team'],
        runbookUrl: `${RUNBOOKS}/triage`,
        assignee: 'ops-team',
      },
    ].map((playbook) => [playbook.id, playbookSchema.parse(playbook)]),
  ) as Record<PlaybookId, Playbook>,
);

export function isPlaybookId(value: string): value is PlaybookId {
  return (PLAYBOOK_IDS as readonly string[]).includes(value);
}
