/**
 * What happens to incidents, over the repository and the audit trail: opening (exactly once per
 * alarm episode), repeats, status changes, acknowledgement, escalation checks and resolution on
 * recovery. Every change is written to the incident's timeline and appended to the ledger.
 */
import type { AuditRecord } from '../ledger/audit-record';
import type { AuditTrail } from '../ledger/ledger';
import type { AlarmSignal } from './alarm-signal';
import type { Classification } from './classify';
import {
  acknowledge,
  type Incident,
  IncidentNotFoundError,
  type IncidentStatus,
  incidentId,
  isActive,
  type TimelineEvent,
  transition,
} from './incident';
import { PLAYBOOKS } from './playbooks';
import { type IncidentRepository, IncidentVersionConflictError } from './ports';

/** Who did it: a person (IAM principal / operator) or the workflow (execution and state). */
export interface Actor {
  readonly type: AuditRecord['actor']['type'];
  readonly id: string;
  readonly execution?: string;
  readonly state?: string;
}

/** Another execution is opening the incident for this alarm right now; retry shortly. */
export class IncidentOpeningInProgressError extends Error {
  override name = 'IncidentOpeningInProgressError';
}

/** A claim older than this without an incident id belongs to a run that died; it may be taken over. */
const STALE_CLAIM_MS = 60_000;
const MAX_SAVE_ATTEMPTS = 5;

export interface OpenResult {
  readonly incident: Incident;
  readonly isNew: boolean;
}

export class IncidentService {
  constructor(
    private readonly repository: IncidentRepository,
    private readonly trail: AuditTrail,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * Opens the incident for an alarm, or records a repeat on the one already open for it. Only
   * the execution holding the alarm's claim allocates an id, so concurrent repeats never open a
   * second incident and never burn incident numbers.
   */
  async openOrRepeat(signal: AlarmSignal, classification: Classification, actor: Actor): Promise<OpenResult> {
    const claimant = actor.execution ?? actor.id;
    const now = this.clock();
    const { won, claim } = await this.repository.claimAlarm(signal.alarmName, claimant, now.toISOString());
    let ours = won || claim.claimedBy === claimant;
    if (!ours) {
      const claimed =
        claim.incidentId === undefined ? undefined : await this.repository.getIncident(claim.incidentId);
      if (claimed && isActive(claimed)) {
        return { incident: await this.recordRepeat(claimed, signal, actor), isNew: false };
      }
      if (claimed) {
        // The claim outlived its incident (its release failed): free it and start over.
        await this.repository.releaseAlarm(signal.alarmName, claimed.id);
        return this.openOrRepeat(signal, classification, actor);
      }
      // Claimed but not created yet: the claimant is at work, unless it died long enough ago.
      if (now.getTime() - Date.parse(claim.claimedAt) < STALE_CLAIM_MS) {
        throw new IncidentOpeningInProgressError(
          `incident for alarm ${signal.alarmName} is being opened by ${claim.claimedBy}`,
        );
      }
      ours = await this.repository.replaceStaleClaim(claim, claimant, now.toISOString());
      if (!ours) throw new IncidentOpeningInProgressError(`alarm ${signal.alarmName} was claimed meanwhile`);
    }
    const id = claim.incidentId ?? (await this.bindNewId(signal.alarmName, claimant, now));
    const existing = await this.repository.getIncident(id);
    // Our own retry, after a run that got as far as creating it.
    if (existing) return { incident: existing, isNew: true };
    const incident = this.newIncident(id, signal, classification, now);
    if (!(await this.repository.createIncident(incident))) {
      return { incident: await this.requireIncident(id), isNew: true };
    }
    await this.record(
      incident,
      actor,
      {
        type: 'opened',
        message: `${incident.title}: ${classification.reason}`,
        details: { alarmName: signal.alarmName, playbook: incident.playbook, severity: incident.severity },
      },
      `incident/${id}/opened`,
      { alarm: signal.alarmName, reason: classification.reason, playbook: incident.playbook },
    );
    return { incident, isNew: true };
  }

  private async bindNewId(alarmName: string, claimant: string, now: Date): Promise<string> {
    const day = now.toISOString().slice(0, 10);
    const id = incidentId(now, await this.repository.nextSequence(day));
    await this.repository.bindClaim(alarmName, claimant, id);
    return id;
  }

  private newIncident(id: string, signal: AlarmSignal, classification: Classification, now: Date): Incident {
    const playbook = PLAYBOOKS[classification.playbook];
    const at = now.toISOString();
    return {
      id,
      title: `${playbook.title}: ${signal.alarmName}`,
      description: signal.description || signal.reason,
      playbook: playbook.id,
      severity: playbook.severity,
      status: 'open',
      assignee: playbook.assignee,
      alarmName: signal.alarmName,
      ...(signal.alarmArn && { alarmArn: signal.alarmArn }),
      affectedSystems: signal.affectedSystems,
      runbookUrl: playbook.runbookUrl,
      createdAt: at,
      updatedAt: at,
      escalationLevel: 0,
      repeatCount: 0,
      version: 1,
    };
  }

  private async recordRepeat(incident: Incident, signal: AlarmSignal, actor: Actor): Promise<Incident> {
    const updated = await this.repository.incrementRepeats(incident.id, this.clock().toISOString());
    await this.record(
      updated,
      actor,
      {
        type: 'alarm-repeated',
        message: `alarm ${signal.alarmName} fired again: ${signal.reason}`,
        details: { eventId: signal.eventId, changedAt: signal.changedAt },
      },
      `incident/${incident.id}/repeat/${signal.eventId}/${actor.execution ?? actor.id}`,
      { eventId: signal.eventId },
    );
    return updated;
  }

  async changeStatus(id: string, to: IncidentStatus, actor: Actor, notes?: string): Promise<Incident> {
    const before = await this.requireIncident(id);
    const after = await this.update(id, (current) => transition(current, to, this.clock(), notes));
    await this.record(
      after,
      actor,
      {
        type: 'status-changed',
        message: `${before.status} → ${after.status}${notes ? `: ${notes}` : ''}`,
        details: { from: before.status, to: after.status },
      },
      `incident/${id}/status/${after.version}`,
      { from: before.status, to: after.status, ...(notes && { notes }) },
    );
    if (!isActive(after)) await this.repository.releaseAlarm(after.alarmName, after.id);
    return after;
  }

  async acknowledge(id: string, actor: Actor): Promise<Incident> {
    const before = await this.requireIncident(id);
    const after = await this.update(id, (current) => acknowledge(current, actor.id, this.clock()));
    if (before.acknowledgedAt === undefined) {
      await this.record(
        after,
        actor,
        {
          type: 'acknowledged',
          message: `acknowledged by ${actor.id}`,
        },
        `incident/${id}/acknowledged`,
        { status: after.status },
      );
    }
    return after;
  }

  /** The alarm is back to OK: the open incident for it is resolved, with its time to resolve. */
  async resolveOnRecovery(signal: AlarmSignal, actor: Actor): Promise<Incident | undefined> {
    const claim = await this.repository.readClaim(signal.alarmName);
    if (claim?.incidentId === undefined) return undefined;
    const incident = await this.repository.getIncident(claim.incidentId);
    if (!incident || !isActive(incident)) return undefined;
    return this.changeStatus(
      incident.id,
      'resolved',
      actor,
      `alarm ${signal.alarmName} returned to OK: ${signal.reason}`,
    );
  }

  /** Where escalation stands: the workflow stops escalating once this says acknowledged or inactive. */
  async escalationState(
    id: string,
  ): Promise<{ acknowledged: boolean; active: boolean; escalationLevel: number }> {
    const incident = await this.requireIncident(id);
    return {
      acknowledged: incident.acknowledgedAt !== undefined,
      active: isActive(incident),
      escalationLevel: incident.escalationLevel,
    };
  }

  async recordEscalation(id: string, tier: string, level: number, actor: Actor): Promise<Incident> {
    const updated = await this.update(id, (current) => ({
      ...current,
      escalationLevel: Math.max(current.escalationLevel, level),
      updatedAt: this.clock().toISOString(),
      version: current.version + 1,
    }));
    await this.record(
      updated,
      actor,
      {
        type: 'escalated',
        message: `not acknowledged in time: escalated to ${tier}`,
        details: { tier, level },
      },
      `incident/${id}/escalated/${level}`,
      { tier, level },
    );
    return updated;
  }

  /** Adds an event to the timeline and the ledger without changing the incident. */
  async note(
    id: string,
    actor: Actor,
    event: Omit<TimelineEvent, 'at' | 'actor'>,
    idempotencyKey: string,
    outcome: AuditRecord['outcome'] = 'info',
    evidence?: AuditRecord['evidence'],
  ): Promise<void> {
    const incident = await this.requireIncident(id);
    await this.record(incident, actor, event, idempotencyKey, event.details ?? {}, outcome, evidence);
  }

  async requireIncident(id: string): Promise<Incident> {
    const incident = await this.repository.getIncident(id);
    if (!incident) throw new IncidentNotFoundError(`no incident ${id}`);
    return incident;
  }

  /** Read, change, save with the version check; a concurrent change is re-read and re-applied. */
  private async update(id: string, change: (current: Incident) => Incident): Promise<Incident> {
    for (let attempt = 1; ; attempt++) {
      const next = change(await this.requireIncident(id));
      try {
        await this.repository.saveIncident(next);
        return next;
      } catch (error) {
        if (!(error instanceof IncidentVersionConflictError) || attempt >= MAX_SAVE_ATTEMPTS) throw error;
      }
    }
  }

  private async record(
    incident: Incident,
    actor: Actor,
    event: Omit<TimelineEvent, 'at' | 'actor'>,
    idempotencyKey: string,
    details: Record<string, unknown>,
    outcome: AuditRecord['outcome'] = event.type === 'action-failed' ? 'failed' : 'succeeded',
    evidence?: AuditRecord['evidence'],
  ): Promise<void> {
    const at = this.clock().toISOString();
    await this.repository.appendTimeline(incident.id, { ...event, at, actor: actor.id });
    await this.trail.append(
      {
        action: `incident.${event.type}`,
        target: { type: 'incident', id: incident.id },
        actor: {
          type: actor.type,
          id: actor.id,
          ...(actor.execution && { execution: actor.execution }),
          ...(actor.state && { state: actor.state }),
        },
        occurredAt: at,
        inputs: JSON.parse(JSON.stringify(details)),
        outputs: { status: incident.status, version: incident.version },
        outcome,
        ...(evidence && evidence.length > 0 && { evidence }),
        incidentId: incident.id,
      },
      idempotencyKey,
    );
  }
}
