/**
 * Which playbook an alarm calls for. The alarm's own `aor:playbook` tag decides when present;
 * otherwise the alarm's name and metrics are read against a table of rules, most specific first,
 * and anything no rule claims is an `unknown_incident` for the ops team to triage.
 */
import type { AlarmSignal } from './alarm-signal';
import { isPlaybookId, type PlaybookId } from './playbooks';

/** Tag on a CloudWatch alarm that names its playbook outright. */
export const PLAYBOOK_TAG = 'aor:playbook';

export interface Classification {
  readonly playbook: PlaybookId;
  /** Why: the rule that matched, for the incident timeline and the ledger. */
  readonly reason: string;
}

interface Rule {
  readonly playbook: PlaybookId;
  readonly reason: string;
  readonly name?: (name: string) => boolean;
  readonly metric?: (metric: { namespace: string; name: string }) => boolean;
}

const words =
  (...patterns: RegExp[]) =>
  (name: string) =>
    patterns.every((p) => p.test(name));

const RULES: readonly Rule[] = [
  {
    playbook: 'security_breach_detected',
    reason: 'security alarm',
    name: (name) => /security|breach|intrusion|unauthori[sz]ed|guardduty/.test(name),
    metric: (m) => m.namespace === 'AWS/GuardDuty' || m.namespace === 'PhoenixRooivalk/Security',
  },
  {
    playbook: 'blockchain_node_down',
    reason: 'blockchain node availability alarm',
    name: words(/blockchain|peer|consensus/, /down|unavailable|unhealthy|not.?ready|offline/),
    metric: (m) =>
      m.namespace === 'PhoenixRooivalk/Blockchain' && /^(NodeUp|NodeReady|PeerCount)$/.test(m.name),
  },
  {
    playbook: 'database_connection_failure',
    reason: 'database connection alarm',
    name: words(/database|\bdb\b|rds|postgres/, /connection/),
    metric: (m) => m.namespace === 'AWS/RDS' && m.name === 'DatabaseConnections',
  },
  {
    playbook: 'high_cpu_utilization',
    reason: 'CPU utilization alarm',
    name: words(/cpu/, /high|utili[sz]ation|saturat/),
    metric: (m) => /cpu_?utili[sz]ation/i.test(m.name),
  },
];

export function classifyAlarm(
  signal: AlarmSignal,
  tags: Readonly<Record<string, string>> = {},
): Classification {
  if (signal.playbook) return { playbook: signal.playbook, reason: 'playbook chosen by the operator' };
  const tagged = tags[PLAYBOOK_TAG];
  if (tagged !== undefined && isPlaybookId(tagged)) {
    return { playbook: tagged, reason: `alarm tag ${PLAYBOOK_TAG}=${tagged}` };
  }
  const name = signal.alarmName.toLowerCase().replace(/[_.-]+/g, ' ');
  for (const rule of RULES) {
    if (rule.name?.(name)) return { playbook: rule.playbook, reason: `${rule.reason} (alarm name)` };
    const metric = signal.metrics.find((m) => rule.metric?.(m));
    if (metric) {
      return {
        playbook: rule.playbook,
        reason: `${rule.reason} (metric ${metric.namespace}/${metric.name})`,
      };
    }
  }
  return { playbook: 'unknown_incident', reason: 'no playbook rule matched the alarm' };
}
