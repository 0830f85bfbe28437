/**
 * What happens to incidents, over the repository and the audit trail: opening (exactly once per
 * alarm episode), repeats, status changes, acknowledgement, escalation checks and resolution on
 * recovery. Every change is written to the incident's timeline and appended to the ledger, once
 * per event however often Step Functions retries the task: each event has an idempotency key that
 * names it (`incident/<id>/opened`, `…/escalated/<level>`), and a retry comes back to the record
 * instead of returning early, which appends the event its first attempt stored (owed-records.ts).
 */
import type { AuditRecord } from '../ledger/audit-record';
import type { AuditTrail } from '../ledger/ledger';
import { appendOwedRecord, type OwedRecordJournal, settleOwedRecords } from '../ledger/owed-records';
import type { AlarmSignal } from './alarm-signal';
import type { Classification } from './classify';
import {
  ACTIVE_STATUSES,
  acknowledge,
  type Incident,
  IncidentNotFoundError,
  type IncidentStatus,
  incidentId,
  isActive,
  type StatusChange,
  type TimelineEvent,
  transition,
} from './incident';
import { PLAYBOOKS } from './playbooks';
import { type IncidentRepository, IncidentVersionConflictError, type RecordedEvent } from './ports';

/** Who did it: a person (IAM principal / operator) or the workflow (execution and state). */
export interface Actor {
  readonly type: AuditRecord['actor']['type'];
  readonly id: string;
  readonly execution?: string;
  readonly state?: string;
  /** A person's `aws:userid`: what the ledger's sequencer checks their records against. */
  readonly principalId?: string;
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

/** Whether `actor` writes as the recorded actor: the same workflow (any execution), or the same person. */
function sameWriter(recorded: AuditRecord['actor'], actor: Actor): boolean {
  return recorded.type === actor.type && recorded.id === actor.id;
}

function escalationKey(id: string, level: number): string {
  return `incident/${id}/escalated/${level}`;
}

/** An actor as a status change remembers it: the same principal, or the same execution and state. */
function actorIdentity(actor: Actor): string {
  return [actor.id, actor.execution, actor.state].filter(Boolean).join(' ');
}

/** The change this actor made to `to`, when it is the incident's last one: a retry of that change. */
function ownLastChange(incident: Incident, to: IncidentStatus, actor: Actor): StatusChange | undefined {
  const last = incident.lastStatusChange;
  return incident.status === to && last?.to === to && last.by === actorIdentity(actor) ? last : undefined;
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
    const fresh = this.newIncident(id, signal, classification, now);
    // Our own retry finds the incident its first attempt created, and records it all the same:
    // that attempt may have failed before the record was appended.
    const incident = (await this.repository.createIncident(fresh)) ? fresh : await this.requireIncident(id);
    await this.record(
      incident,
      actor,
      `incident/${id}/opened`,
      {
        type: 'opened',
        message: `${incident.title}: ${classification.reason}`,
        details: { alarmName: signal.alarmName, playbook: incident.playbook, severity: incident.severity },
      },
      { alarm: signal.alarmName, reason: classification.reason, playbook: incident.playbook },
      { at: incident.createdAt },
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

  /**
   * The alarm fired again while its incident is open: one repeat per alarm event (and execution).
   * Recorded before it is counted: the alarm fired whatever becomes of the count, and with the
   * count the last write, an attempt that failed has not counted it, so its retry counts it once.
   */
  private async recordRepeat(incident: Incident, signal: AlarmSignal, actor: Actor): Promise<Incident> {
    await this.record(
      incident,
      actor,
      `incident/${incident.id}/repeat/${signal.eventId}/${actor.execution ?? actor.id}`,
      {
        type: 'alarm-repeated',
        message: `alarm ${signal.alarmName} fired again: ${signal.reason}`,
        details: { eventId: signal.eventId, changedAt: signal.changedAt },
      },
      { eventId: signal.eventId },
    );
    return this.repository.incrementRepeats(incident.id, this.clock().toISOString());
  }

  /**
   * Moves the incident along its lifecycle, or names why it cannot. A retry of this actor's own
   * change (its first attempt saved it, then failed to record it) records that change again
   * rather than refusing it as a change from a status to itself.
   */
  async changeStatus(id: string, to: IncidentStatus, actor: Actor, notes?: string): Promise<Incident> {
    const current = await this.requireIncident(id);
    const retried = ownLastChange(current, to, actor);
    const { incident, change } = retried
      ? { incident: current, change: retried }
      : await this.saveStatusChange(id, to, actor, notes);
    await this.record(
      incident,
      actor,
      // The version the change produced: a status can be entered more than once (reopened, resolved again).
      `incident/${id}/status/${change.version}`,
      {
        type: 'status-changed',
        message: `${change.from} → ${change.to}${notes ? `: ${notes}` : ''}`,
        details: { from: change.from, to: change.to },
      },
      { from: change.from, to: change.to, ...(notes && { notes }) },
      { at: change.at },
    );
    if (!isActive(incident)) await this.repository.releaseAlarm(incident.alarmName, incident.id);
    return incident;
  }

  /**
   * Changes the status only from the given ones, the way the workflow does (it never reopens what
   * a person resolved); `changed` is false when it left the incident alone. A retry of the
   * actor's own change is still that change, though the status is no longer one of `onlyFrom`.
   */
  async changeStatusFrom(
    id: string,
    to: IncidentStatus,
    onlyFrom: readonly IncidentStatus[],
    actor: Actor,
    notes?: string,
  ): Promise<{ incident: Incident; changed: boolean }> {
    const current = await this.requireIncident(id);
    if (!onlyFrom.includes(current.status) && !ownLastChange(current, to, actor)) {
      return { incident: current, changed: false };
    }
    return { incident: await this.changeStatus(id, to, actor, notes), changed: true };
  }

  private async saveStatusChange(
    id: string,
    to: IncidentStatus,
    actor: Actor,
    notes: string | undefined,
  ): Promise<{ incident: Incident; change: StatusChange }> {
    const incident = await this.update(id, (current) => {
      const next = transition(current, to, this.clock(), notes);
      const lastStatusChange: StatusChange = {
        from: current.status,
        to,
        at: next.updatedAt,
        version: next.version,
        by: actorIdentity(actor),
      };
      return { ...next, lastStatusChange };
    });
    return { incident, change: incident.lastStatusChange };
  }

  /**
   * Acknowledging stops the escalation clock. The acknowledger's record is owed whenever they
   * call (once, under its key), so their retry completes it; anyone acknowledging after them
   * changes nothing the ledger has to hold.
   */
  async acknowledge(id: string, actor: Actor): Promise<Incident> {
    const after = await this.update(id, (current) => acknowledge(current, actor.id, this.clock()));
    if (after.acknowledgedBy === actor.id) {
      await this.record(
        after,
        actor,
        `incident/${id}/acknowledged`,
        { type: 'acknowledged', message: `acknowledged by ${actor.id}` },
        { status: after.status },
        { at: after.acknowledgedAt },
      );
    }
    return after;
  }

  /** The alarm is back to OK: the open incident for it is resolved, with its time to resolve. */
  async resolveOnRecovery(signal: AlarmSignal, actor: Actor): Promise<Incident | undefined> {
    const claim = await this.repository.readClaim(signal.alarmName);
    if (claim?.incidentId === undefined) return undefined;
    const incident = await this.repository.getIncident(claim.incidentId);
    if (!incident) return undefined;
    const { incident: resolved, changed } = await this.changeStatusFrom(
      incident.id,
      'resolved',
      ACTIVE_STATUSES,
      actor,
      `alarm ${signal.alarmName} returned to OK: ${signal.reason}`,
    );
    return changed ? resolved : undefined;
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

  /**
   * Records an escalation the workflow has paged, then saves its level. Recorded first: the page
   * went out, so the escalation happened whatever becomes of the save; and the workflow picks the
   * next tier from the saved level, so a retry after a failed record comes back to this level
   * and its stored record instead of skipping to the next tier.
   */
  async recordEscalation(id: string, tier: string, level: number, actor: Actor): Promise<Incident> {
    await this.record(
      await this.requireIncident(id),
      actor,
      escalationKey(id, level),
      {
        type: 'escalated',
        message: `not acknowledged in time: escalated to ${tier}`,
        details: { tier, level },
      },
      { tier, level },
    );
    return this.update(id, (current) => ({
      ...current,
      escalationLevel: Math.max(current.escalationLevel, level),
      updatedAt: this.clock().toISOString(),
      version: current.version + 1,
    }));
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
    await this.record(incident, actor, idempotencyKey, event, event.details ?? {}, { outcome, evidence });
  }

  /**
   * Appends what earlier attempts of the incident's steps stored but did not get to append: a task
   * settles before it acts, so a retried step never leaves its first attempt's record behind. Only
   * the actor's own records: the ledger takes a record only from the writer it names (another
   * actor's may be on its way to the ledger right now, under that actor's own credentials).
   */
  async settleOwedRecords(id: string, actor: Actor): Promise<number> {
    const own = (await this.repository.unappendedEvents(id)).filter(({ entry }) =>
      sameWriter(entry.record.actor, actor),
    );
    return settleOwedRecords(own, this.journal(id), this.trail);
  }

  /** True when an earlier attempt paged this escalation level: a retry must not page it again. */
  async escalationPaged(id: string, level: number): Promise<boolean> {
    return (await this.repository.getEvent(id, escalationKey(id, level))) !== undefined;
  }

  /** The event an earlier attempt stored under this key, if one did: what a retry must not do twice. */
  recordedEvent(id: string, idempotencyKey: string): Promise<RecordedEvent | undefined> {
    return this.repository.getEvent(id, idempotencyKey);
  }

  async requireIncident(id: string): Promise<Incident> {
    const incident = await this.repository.getIncident(id);
    if (!incident) throw new IncidentNotFoundError(`no incident ${id}`);
    return incident;
  }

  /** Read, change, save with the version check; a concurrent change is re-read and re-applied. */
  private async update<Next extends Incident>(
    id: string,
    change: (current: Incident) => Next,
  ): Promise<Next> {
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

  private journal(id: string): OwedRecordJournal<RecordedEvent> {
    return {
      putOnce: (key, recorded) => this.repository.putEventOnce(id, key, recorded),
      markAppended: (key) => this.repository.markEventAppended(id, key),
    };
  }

  /**
   * Puts the event on the timeline and in the ledger, once per idempotency key: the first
   * attempt stores the event with its record, and every attempt appends the stored record.
   * `at` is when the event happened, where the incident keeps it; the clock otherwise.
   */
  private async record(
    incident: Incident,
    actor: Actor,
    idempotencyKey: string,
    event: Omit<TimelineEvent, 'at' | 'actor'>,
    inputs: Record<string, unknown>,
    options: {
      at?: string;
      outcome?: AuditRecord['outcome'];
      evidence?: AuditRecord['evidence'];
    } = {},
  ): Promise<void> {
    const at = options.at ?? this.clock().toISOString();
    const { evidence } = options;
    await appendOwedRecord(this.journal(incident.id), this.trail, idempotencyKey, {
      event: { ...event, at, actor: actor.id },
      record: {
        action: `incident.${event.type}`,
        target: { type: 'incident', id: incident.id },
        actor: {
          type: actor.type,
          id: actor.id,
          ...(actor.execution && { execution: actor.execution }),
          ...(actor.state && { state: actor.state }),
          ...(actor.principalId && { principalId: actor.principalId }),
        },
        occurredAt: at,
        inputs: JSON.parse(JSON.stringify(inputs)),
        outputs: { status: incident.status, version: incident.version },
        outcome: options.outcome ?? (event.type === 'action-failed' ? 'failed' : 'succeeded'),
        ...(evidence && evidence.length > 0 && { evidence }),
        incidentId: incident.id,
      },
    });
  }
}
