import type { Notification } from '../operations/ports';
import type { Incident } from './incident';

/** The message every channel gets when an incident opens or escalates: what, how bad, where to look. */
export function incidentNotification(
  incident: Incident,
  kind: 'opened' | 'escalated',
  executionUrl: string,
  tier?: string,
): Notification {
  const heading =
    kind === 'opened'
      ? `${incident.title}`
      : `ESCALATION to ${tier}: ${incident.id} not acknowledged in time`;
  return {
    subject: `[${incident.severity}] ${incident.id} ${kind === 'opened' ? incident.title : `escalated to ${tier}`}`,
    message: [
      heading,
      '',
      `Incident:   ${incident.id}`,
      `Severity:   ${incident.severity}`,
      `Status:     ${incident.status}`,
      `Assignee:   ${incident.assignee}`,
      `Alarm:      ${incident.alarmName}`,
      `Affected:   ${incident.affectedSystems.join(', ') || '(not named by the alarm)'}`,
      `Summary:    ${incident.description}`,
      `Runbook:    ${incident.runbookUrl}`,
      `Console:    ${executionUrl}`,
      '',
      `Acknowledge: aor incident ack ${incident.id}`,
    ].join('\n'),
    attributes: { incidentId: incident.id, severity: incident.severity, kind },
  };
}
