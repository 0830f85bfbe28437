import type { OwedEntry, UnsettledEntry } from '../ledger/owed-records';
import type { Incident, TimelineEvent } from './incident';

/**
 * Who is opening the incident for an alarm. One claim per alarm while its incident is active:
 * the claim is what turns fifty identical alarm events into one incident and forty-nine repeats.
 */
export interface AlarmClaim {
  readonly alarmName: string;
  /** The workflow execution (or request) that won the claim. */
  readonly claimedBy: string;
  readonly claimedAt: string;
  /** Set once the claimant has allocated the incident id. */
  readonly incidentId?: string;
}

/** An event of an incident as it is owed to the ledger: its timeline entry and its audit record. */
export interface RecordedEvent extends OwedEntry {
  readonly event: TimelineEvent;
}

export class IncidentVersionConflictError extends Error {
  override name = 'IncidentVersionConflictError';
}

export interface IncidentRepository {
  /** Takes the alarm's claim unless someone holds it; returns the claim that stands either way. */
  claimAlarm(alarmName: string, claimant: string, at: string): Promise<{ won: boolean; claim: AlarmClaim }>;
  /** Records the incident id on a claim this claimant holds. */
  bindClaim(alarmName: string, claimant: string, incidentId: string): Promise<void>;
  /** Takes over a claim whose holder died before binding it; false if it changed meanwhile. */
  replaceStaleClaim(stale: AlarmClaim, claimant: string, at: string): Promise<boolean>;
  readClaim(alarmName: string): Promise<AlarmClaim | undefined>;
  /** Frees the alarm for a new incident, if the claim still belongs to this incident. */
  releaseAlarm(alarmName: string, incidentId: string): Promise<void>;
  /** The next number of the day's atomic counter (1, 2, …). */
  nextSequence(day: string): Promise<number>;
  /** Stores a new incident; false if one with that id exists (a retried creation). */
  createIncident(incident: Incident): Promise<boolean>;
  getIncident(id: string): Promise<Incident | undefined>;
  /** Saves an incident whose version is one more than the stored one; else IncidentVersionConflictError. */
  saveIncident(incident: Incident): Promise<void>;
  /** Counts a repeat of the alarm atomically (no read-modify-write: repeats arrive in bursts). */
  incrementRepeats(incidentId: string, at: string): Promise<Incident>;
  /**
   * Adds an event to the incident's timeline, with the audit record it owes, unless an earlier
   * attempt stored one under this idempotency key; returns the stored one either way. Written once,
   * so the timeline shows each event once however often a step is retried.
   */
  putEventOnce(incidentId: string, idempotencyKey: string, recorded: RecordedEvent): Promise<RecordedEvent>;
  /** The event stored under the key, if an earlier attempt stored it. */
  getEvent(incidentId: string, idempotencyKey: string): Promise<RecordedEvent | undefined>;
  /** Notes that the ledger holds the event's record. */
  markEventAppended(incidentId: string, idempotencyKey: string): Promise<void>;
  /** Stored events whose records are not known to be in the ledger, in key order. */
  unappendedEvents(incidentId: string): Promise<UnsettledEntry<RecordedEvent>[]>;
  /** The timeline in time order (events of one millisecond in the order they were first stored). */
  readTimeline(incidentId: string): Promise<TimelineEvent[]>;
  /** Every incident, newest first. */
  listIncidents(): Promise<Incident[]>;
}
