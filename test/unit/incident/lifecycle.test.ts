import { describe, expect, it } from 'vitest';
import {
  acknowledge,
  INCIDENT_STATUSES,
  type Incident,
  type IncidentStatus,
  InvalidTransitionError,
  incidentId,
  ResolutionNotesRequiredError,
  transition,
} from '../../../lambdas/core/incident/incident';

const opened: Incident = {
  id: 'INC-20261123-0001',
  title: 'Blockchain node down: phoenix-rooivalk-blockchain-node-down',
  description: 'node 1 not ready',
  playbook: 'blockchain_node_down',
  severity: 'HIGH',
  status: 'open',
  assignee: 'blockchain-team',
  alarmName: 'phoenix-rooivalk-blockchain-node-down',
  affectedSystems: [],
  runbookUrl: 'https://runbooks.phoenixrooivalk.mil/blockchain-node-down',
  createdAt: '2026-11-23T04:00:00.000Z',
  updatedAt: '2026-11-23T04:00:00.000Z',
  escalationLevel: 0,
  repeatCount: 0,
  version: 1,
};
const later = new Date('2026-11-23T04:12:30.000Z');

const ALLOWED: Record<IncidentStatus, IncidentStatus[]> = {
  open: ['investigating', 'mitigating', 'resolved'],
  investigating: ['mitigating', 'resolved'],
  mitigating: ['investigating', 'resolved'],
  resolved: ['investigating', 'closed'],
  closed: [],
};

describe('incident lifecycle', () => {
  const cases = INCIDENT_STATUSES.flatMap((from) => INCIDENT_STATUSES.map((to) => [from, to] as const));
  it.each(cases)('%s → %s is allowed only when the lifecycle says so', (from, to) => {
    const incident = { ...opened, status: from };
    if (ALLOWED[from].includes(to)) {
      expect(transition(incident, to, later, 'root cause: disk full').status).toBe(to);
    } else {
      expect(() => transition(incident, to, later, 'notes')).toThrow(InvalidTransitionError);
    }
  });

  it('records the time to resolve and bumps the version', () => {
    const resolved = transition(opened, 'resolved', later);
    expect(resolved).toMatchObject({
      status: 'resolved',
      resolvedAt: later.toISOString(),
      timeToResolveSeconds: 750,
      version: 2,
    });
  });

  it('needs resolution notes to close', () => {
    const resolved = transition(opened, 'resolved', later);
    expect(() => transition(resolved, 'closed', later)).toThrow(ResolutionNotesRequiredError);
    expect(() => transition(resolved, 'closed', later, '   ')).toThrow(ResolutionNotesRequiredError);
    expect(transition(resolved, 'closed', later, 'Restarted node; added PDB.')).toMatchObject({
      status: 'closed',
      resolutionNotes: 'Restarted node; added PDB.',
      closedAt: later.toISOString(),
    });
  });

  it('acknowledging moves an open incident to investigating and keeps the first acknowledgement', () => {
    const acked = acknowledge(opened, 'arn:aws-us-gov:iam::111122223333:user/oncall', later);
    expect(acked).toMatchObject({
      status: 'investigating',
      acknowledgedBy: 'arn:aws-us-gov:iam::111122223333:user/oncall',
      version: 2,
    });
    const again = acknowledge(acked, 'someone-else', new Date('2026-11-23T05:00:00.000Z'));
    expect(again.acknowledgedBy).toBe('arn:aws-us-gov:iam::111122223333:user/oncall');
    expect(again.acknowledgedAt).toBe(later.toISOString());
    expect(() => acknowledge({ ...opened, status: 'closed' }, 'x', later)).toThrow(InvalidTransitionError);
  });

  it('numbers incidents INC-YYYYMMDD-NNNN', () => {
    expect(incidentId(new Date('2026-11-23T23:59:59Z'), 7)).toBe('INC-20261123-0007');
    expect(incidentId(new Date('2026-01-02T00:00:00Z'), 12345)).toBe('INC-20260102-12345');
  });
});
