import { generateKeyPairSync } from 'node:crypto';
import type { AuditRecord } from '../../lambdas/core/ledger/audit-record';
import type { LedgerStore } from '../../lambdas/core/ledger/ports';
import {
  localNoteSigner,
  type NoteSigner,
  type NoteVerifier,
  noteVerifier,
} from '../../lambdas/core/ledger/signed-note';

export const TEST_ORIGIN = 'test.localhost/aor/audit-ledger';

export function testSigner(): { signer: NoteSigner; verifier: NoteVerifier; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    signer: localNoteSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), TEST_ORIGIN),
    verifier: noteVerifier(TEST_ORIGIN, publicKeyPem),
    publicKeyPem,
  };
}

export function auditRecord(n: number, overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    action: 'kubernetes.rollout-restart',
    target: { type: 'kubernetes/statefulset', id: `phoenix-rooivalk/blockchain-node-${n}` },
    actor: {
      type: 'workflow',
      id: 'AorIncidentResponse',
      execution: `exec-${n}`,
      state: 'Restart blockchain node',
    },
    occurredAt: '2026-11-23T04:00:00.000Z',
    outcome: 'succeeded',
    incidentId: 'INC-20261123-0001',
    ...overrides,
  };
}

/** A clock that moves one second per reading, so every append has its own receive time. */
export function steppingClock(start = Date.UTC(2026, 10, 23, 4)): () => Date {
  let now = start;
  return () => {
    now += 1_000;
    return new Date(now);
  };
}

export class SimulatedCrashError extends Error {
  override name = 'SimulatedCrashError';
}

/**
 * Wraps a store so the `nth` call of `method` dies before it does anything, as a Lambda killed
 * mid-run would; later calls go through.
 */
export function crashingStore<T extends LedgerStore>(store: T, method: keyof LedgerStore, nth = 1): T {
  let calls = 0;
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== method || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls++;
        if (calls === nth) throw new SimulatedCrashError(`crashed before ${String(method)}`);
        return value.apply(target, args);
      };
    },
  });
}
