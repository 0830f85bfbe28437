/**
 * What starts the incident workflow, normalised: a CloudWatch alarm state change delivered by
 * EventBridge, or an operator's manual start. Everything downstream reads an AlarmSignal.
 */
import * as z from 'zod';
import { isPlaybookId, type PlaybookId } from './playbooks';

export interface AlarmSignal {
  readonly alarmName: string;
  /** The alarm ARN (EventBridge `resources[0]`); absent for a manual start. */
  readonly alarmArn?: string;
  readonly state: 'ALARM' | 'OK';
  readonly reason: string;
  readonly description: string;
  /** When the alarm changed state (ISO 8601). */
  readonly changedAt: string;
  readonly metrics: readonly { namespace: string; name: string; dimensions: Record<string, string> }[];
  /** `Key=Value` of every metric dimension, or what the operator named. */
  readonly affectedSystems: readonly string[];
  /** Set by a manual start (or the alarm's `aor:playbook` tag) to choose the playbook outright. */
  readonly playbook?: PlaybookId;
  readonly source: 'cloudwatch-alarm' | 'manual';
  /** EventBridge event id, or the manual start's request id. */
  readonly eventId: string;
}

/** The event is not a CloudWatch alarm state change (another source or detail-type). */
export class ForeignEventError extends Error {
  override name = 'ForeignEventError';
}

/** The event claims to be an alarm state change but lacks what one always has. */
export class MalformedAlarmEventError extends Error {
  override name = 'MalformedAlarmEventError';
}

const text = z.string().min(1).max(2048);
const metricSchema = z.object({
  metricStat: z
    .object({
      metric: z.object({
        namespace: text,
        name: text,
        dimensions: z.record(z.string(), z.string()).default({}),
      }),
    })
    .optional(),
});

const cloudWatchAlarmEvent = z.object({
  id: text,
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  source: z.literal('aws.cloudwatch'),
  resources: z.array(z.string()).default([]),
  detail: z.object({
    alarmName: text,
    state: z.object({
      value: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
      reason: z.string().default(''),
      timestamp: text,
    }),
    configuration: z
      .object({
        description: z.string().nullish(),
        metrics: z.array(metricSchema).default([]),
      })
      .default({ metrics: [] }),
  }),
});

/** The documented input for starting the workflow by hand (console or `aws stepfunctions start-execution`). */
export const manualStartSchema = z.strictObject({
  manual: z.strictObject({
    requestId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only'),
    alarmName: text,
    state: z.enum(['ALARM', 'OK']).default('ALARM'),
    description: z.string().max(1024).default(''),
    affectedSystems: z.array(text).max(50).default([]),
    playbook: z.string().refine(isPlaybookId, 'must be one of the playbook ids').optional(),
  }),
});

/**
 * Normalises the workflow's input. INSUFFICIENT_DATA is not an incident signal: it is reported
 * as a foreign event so the workflow stops without writing anything.
 */
export function parseAlarmSignal(event: unknown, receivedAt: Date): AlarmSignal {
  if (isObject(event) && 'manual' in event) return fromManualStart(event, receivedAt);
  if (
    !isObject(event) ||
    event.source !== 'aws.cloudwatch' ||
    event['detail-type'] !== 'CloudWatch Alarm State Change'
  ) {
    throw new ForeignEventError(
      `not a CloudWatch alarm state change (source ${describe(isObject(event) ? event.source : event)}, detail-type ${describe(isObject(event) ? event['detail-type'] : undefined)})`,
    );
  }
  const parsed = cloudWatchAlarmEvent.safeParse(event);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new MalformedAlarmEventError(`malformed alarm state change: ${problems}`);
  }
  const { detail, id, resources } = parsed.data;
  if (detail.state.value === 'INSUFFICIENT_DATA') {
    throw new ForeignEventError(
      `alarm ${detail.alarmName} went to INSUFFICIENT_DATA, which is not an incident signal`,
    );
  }
  const metrics = detail.configuration.metrics.flatMap((m) => (m.metricStat ? [m.metricStat.metric] : []));
  return {
    alarmName: detail.alarmName,
    ...(resources[0] && { alarmArn: resources[0] }),
    state: detail.state.value,
    reason: detail.state.reason,
    description: detail.configuration.description ?? '',
    changedAt: normaliseTimestamp(detail.state.timestamp),
    metrics,
    affectedSystems: [
      ...new Set(metrics.flatMap((m) => Object.entries(m.dimensions).map(([k, v]) => `${k}=${v}`))),
    ],
    source: 'cloudwatch-alarm',
    eventId: id,
  };
}

function fromManualStart(event: object, receivedAt: Date): AlarmSignal {
  const parsed = manualStartSchema.safeParse(event);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new MalformedAlarmEventError(`malformed manual start: ${problems}`);
  }
  const manual = parsed.data.manual;
  return {
    alarmName: manual.alarmName,
    state: manual.state,
    reason: 'started manually',
    description: manual.description,
    changedAt: receivedAt.toISOString(),
    metrics: [],
    affectedSystems: manual.affectedSystems,
    ...(manual.playbook !== undefined && isPlaybookId(manual.playbook) && { playbook: manual.playbook }),
    source: 'manual',
    eventId: manual.requestId,
  };
}

/** CloudWatch writes `2019-10-02T17:04:40.985+0000`; ISO 8601 wants `+00:00`. */
function normaliseTimestamp(timestamp: string): string {
  const date = new Date(timestamp.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  if (Number.isNaN(date.getTime()))
    throw new MalformedAlarmEventError(`unreadable state timestamp ${timestamp}`);
  return date.toISOString();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value.slice(0, 80)}"` : String(value);
}
