/**
 * The incident record and its lifecycle: open → investigating → mitigating → resolved → closed,
 * with only the transitions an operator or the automation can justify.
 */
import type { Channel, PlaybookId, Severity } from './playbooks';

export const INCIDENT_STATUSES = ['open', 'investigating', 'mitigating', 'resolved', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export interface Incident {
  /** `INC-YYYYMMDD-NNNN`, from a per-day atomic counter. */
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly playbook: PlaybookId;
  readonly severity: Severity;
  readonly status: IncidentStatus;
  readonly assignee: Channel;
  readonly alarmName: string;
  readonly alarmArn?: string;
  readonly affectedSystems: readonly string[];
  readonly runbookUrl: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly acknowledgedAt?: string;
  readonly acknowledgedBy?: string;
  readonly resolvedAt?: string;
  /** Seconds from opening to resolution (the incident's time to resolve). */
  readonly timeToResolveSeconds?: number;
  readonly closedAt?: string;
  readonly resolutionNotes?: string;
  /** Escalation tiers already notified (0: none, 1: incident commander, 2: leadership). */
  readonly escalationLevel: number;
  /** Repeats of the alarm while this incident was open. */
  readonly repeatCount: number;
  /** Optimistic-concurrency version: every save must name the version it read. */
  readonly version: number;
  /** The last change made through the lifecycle: what a retry of that change records again. */
  readonly lastStatusChange?: StatusChange;
}

export interface StatusChange {
  readonly from: IncidentStatus;
  readonly to: IncidentStatus;
  readonly at: string;
  /** The version the change produced: it tells this change from any other to the same status. */
  readonly version: number;
  /** Who made it: a principal, or a workflow's execution and state. */
  readonly by: string;
}

export interface TimelineEvent {
  readonly at: string;
  readonly type:
    | 'opened'
    | 'alarm-repeated'
    | 'status-changed'
    | 'acknowledged'
    | 'notified'
    | 'action-succeeded'
    | 'action-failed'
    | 'escalated'
    | 'note';
  readonly actor: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

/** The transitions the lifecycle allows, and nothing else. */
const TRANSITIONS: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = {
  // An operator picks it up, or the automation starts remediating straight away.
  open: ['investigating', 'mitigating', 'resolved'],
  investigating: ['mitigating', 'resolved'],
  // Automated actions finished without fixing it: back to people.
  mitigating: ['investigating', 'resolved'],
  // Reopened if it was not really fixed; closed once the notes are written.
  resolved: ['investigating', 'closed'],
  closed: [],
};

export class InvalidTransitionError extends Error {
  override name = 'InvalidTransitionError';
}

export class ResolutionNotesRequiredError extends Error {
  override name = 'ResolutionNotesRequiredError';
}

export class IncidentNotFoundError extends Error {
  override name = 'IncidentNotFoundError';
}

export function allowedTransitions(from: IncidentStatus): readonly IncidentStatus[] {
  return TRANSITIONS[from];
}

export function incidentId(day: Date, sequence: number): string {
  const yyyymmdd = day.toISOString().slice(0, 10).replaceAll('-', '');
  return `INC-${yyyymmdd}-${sequence.toString().padStart(4, '0')}`;
}

/** The incident after a status change, or a named error when the lifecycle forbids it. */
export function transition(incident: Incident, to: IncidentStatus, at: Date, notes?: string): Incident {
  if (!TRANSITIONS[incident.status].includes(to)) {
    throw new InvalidTransitionError(
      `${incident.id} cannot go from ${incident.status} to ${to} (allowed: ${TRANSITIONS[incident.status].join(', ') || 'none'})`,
    );
  }
  const trimmedNotes = notes?.trim();
  if (to === 'closed' && !trimmedNotes && !incident.resolutionNotes) {
    throw new ResolutionNotesRequiredError(`${incident.id} needs resolution notes to be closed`);
  }
  const now = at.toISOString();
  const resolving = to === 'resolved';
  return {
    ...incident,
    status: to,
    updatedAt: now,
    ...(resolving && {
      resolvedAt: now,
      timeToResolveSeconds: Math.max(0, Math.round((at.getTime() - Date.parse(incident.createdAt)) / 1000)),
    }),
    ...(to === 'investigating' &&
      incident.status === 'resolved' && { resolvedAt: undefined, timeToResolveSeconds: undefined }),
    ...(to === 'closed' && { closedAt: now }),
    ...(trimmedNotes && { resolutionNotes: trimmedNotes }),
    version: incident.version + 1,
  };
}

/** Acknowledging stops the escalation clock; an open incident moves to investigating. */
export function acknowledge(incident: Incident, by: string, at: Date): Incident {
  if (incident.status === 'closed') {
    throw new InvalidTransitionError(`${incident.id} is closed and cannot be acknowledged`);
  }
  const acknowledged: Incident = {
    ...incident,
    acknowledgedAt: incident.acknowledgedAt ?? at.toISOString(),
    acknowledgedBy: incident.acknowledgedBy ?? by,
    updatedAt: at.toISOString(),
    version: incident.version + 1,
  };
  return incident.status === 'open'
    ? { ...transition(acknowledged, 'investigating', at), version: incident.version + 1 }
    : acknowledged;
}

/** The statuses of an incident still being worked on. */
export const ACTIVE_STATUSES: readonly IncidentStatus[] = ['open', 'investigating', 'mitigating'];

export function isActive(incident: Incident): boolean {
  return ACTIVE_STATUSES.includes(incident.status);
}
