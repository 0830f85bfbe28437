/**
 * What one ledger entry is: an audit record of an operational action, stored as the UTF-8 bytes of its
 * RFC 8785 (JCS) canonical JSON, so that anyone can re-derive the exact leaf bytes from the JSON alone.
 */
import canonicalize from 'canonicalize';
import * as z from 'zod';
import { leafHash } from './merkle';

export interface AuditRecord {
  action: string;
  target: { type: string; id: string };
  actor: {
    type: 'iam-principal' | 'workflow' | 'operator' | 'system';
    id: string;
    execution?: string;
    state?: string;
    /** An IAM principal's `aws:userid` (e.g. `AROA…:alice`): the identity IAM enforced on the write. */
    principalId?: string;
  };
  /** ISO 8601 in UTC (`Z`). */
  occurredAt: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  outcome: 'succeeded' | 'failed' | 'info';
  evidence?: { sha256: string; uri?: string; bytes?: number }[];
  incidentId?: string;
  runId?: string;
}

/** Keeps one entry well inside a DynamoDB item (400 KB); bulky evidence goes to S3 and is referenced by hash. */
export const MAX_ENTRY_BYTES = 64 * 1024;

// ARNs (principals, executions, resources) can reach 2048 characters.
const ARN_LENGTH = 2048;
const text = (max: number) => z.string().min(1).max(max);

// z.json() admits only values that survive a JSON round trip unchanged (no undefined, NaN, Date, Map, BigInt),
// so the canonical bytes computed now are the ones a verifier recomputes from exported JSON.
const jsonObject = z.record(text(256), z.json());

export const auditRecordSchema = z.strictObject({
  action: text(128).regex(/^[\w.:/-]+$/, 'action is an identifier such as "route53.failover"'),
  target: z.strictObject({ type: text(64), id: text(ARN_LENGTH) }),
  actor: z.strictObject({
    type: z.enum(['iam-principal', 'workflow', 'operator', 'system']),
    id: text(ARN_LENGTH),
    execution: text(ARN_LENGTH).optional(),
    // Step Functions limits state names to 80 characters.
    state: text(80).optional(),
    // aws:userid is the unique id (up to 128) and, for a role session, ':' and the session name (up to 64).
    principalId: text(200)
      .regex(/^[\w+=,.@:-]+$/, 'principalId is an aws:userid such as AROA…:session')
      .optional(),
  }),
  occurredAt: z.iso.datetime(),
  inputs: jsonObject.optional(),
  outputs: jsonObject.optional(),
  outcome: z.enum(['succeeded', 'failed', 'info']),
  evidence: z
    .array(
      z.strictObject({
        sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 is 64 lowercase hex digits'),
        uri: z.url().max(ARN_LENGTH).optional(),
        bytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
      }),
    )
    .max(64)
    .optional(),
  incidentId: text(128).optional(),
  runId: text(128).optional(),
});

export class InvalidAuditRecordError extends Error {
  override name = 'InvalidAuditRecordError';

  constructor(
    /** Dotted path of the first offending field, e.g. `actor.id` or `evidence.0.sha256`. */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function issueField(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  // A strict object reports unknown keys on the object itself; the unknown key is the field at fault.
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0] ?? '');
  return path.length === 0 ? '(record)' : path.join('.');
}

export function parseAuditRecord(input: unknown): AuditRecord {
  const result = auditRecordSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues;
    const first = issues[0];
    const field = first === undefined ? '(record)' : issueField(first);
    const details = issues.map((issue) => `${issueField(issue)}: ${issue.message}`).join('; ');
    throw new InvalidAuditRecordError(field, `invalid audit record: ${details}`);
  }
  const record: AuditRecord = result.data;
  return record;
}

/** The ledger entry bytes: UTF-8 of the RFC 8785 canonical JSON of the validated record. */
export function canonicalEntryBytes(record: AuditRecord): Uint8Array {
  return new Uint8Array(Buffer.from(canonicalTextOfValid(parseAuditRecord(record)), 'utf8'));
}

/**
 * The record a stored entry holds, checked as the sequencer must before integrating it: JSON, a
 * valid audit record, and exactly that record's canonical form (so anyone can re-derive the bytes).
 */
export function parseEntry(entry: string): AuditRecord {
  let json: unknown;
  try {
    json = JSON.parse(entry);
  } catch {
    throw new InvalidAuditRecordError('(record)', 'the entry is not JSON');
  }
  const record = parseAuditRecord(json);
  // Validated once: the canonical form of what was parsed, compared with the stored text.
  if (canonicalTextOfValid(record) !== entry) {
    throw new InvalidAuditRecordError(
      '(record)',
      'the entry is not the RFC 8785 canonical form of its record',
    );
  }
  return record;
}

function canonicalTextOfValid(record: AuditRecord): string {
  const canonical = canonicalize(record);
  if (canonical === undefined) {
    throw new InvalidAuditRecordError('(record)', 'audit record has no JSON representation');
  }
  const size = Buffer.byteLength(canonical, 'utf8');
  if (size > MAX_ENTRY_BYTES) {
    throw new InvalidAuditRecordError('(record)', `entry is ${size} bytes, over ${MAX_ENTRY_BYTES}`);
  }
  return canonical;
}

/** Hex RFC 9162 leaf hash of a record's entry bytes: the record's identity in the ledger. */
export function entryHash(record: AuditRecord): string {
  return Buffer.from(leafHash(canonicalEntryBytes(record))).toString('hex');
}
