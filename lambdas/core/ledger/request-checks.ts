/**
 * What the sequencer checks before a request enters the tree. A request is written by its writer
 * and nothing in it is taken on trust: the leaf hash is recomputed from the entry, the entry must be
 * the canonical form of a valid audit record, and the record's actor must be one the writer's
 * namespace may speak for. A request that fails is quarantined: skipped, with a ledger record of why.
 */
import { createHash } from 'node:crypto';
import { type AuditRecord, InvalidAuditRecordError, parseEntry } from './audit-record';
import { SEQUENCER_ACTOR_ID, SEQUENCER_WRITER } from './ledger-contract';
import { leafHash } from './merkle';
import type { AppendRequest } from './ports';

/** Who may write what. Writers not described here (and not people or the sequencer) are refused. */
export interface WriterRules {
  /** Workflow writer → the prefix of its executions' ARNs (`arn:…:execution:<state machine>:`). */
  readonly workflows: Readonly<Record<string, string>>;
  /** The local drills' operators (`operator/<name>`): only where there is no IAM to name a principal. */
  readonly localOperators?: boolean;
}

const PRINCIPAL_PREFIX = 'principal/';
const OPERATOR_PREFIX = 'operator/';

/** Why `record` may not be written by `writer`, or undefined when it may. */
export function writerBindingProblem(
  writer: string,
  record: AuditRecord,
  rules: WriterRules,
): string | undefined {
  const { actor } = record;
  if (writer === SEQUENCER_WRITER) {
    return actor.type === 'system' && actor.id === SEQUENCER_ACTOR_ID
      ? undefined
      : `the sequencer's namespace holds only its own records, not one by ${actor.type} ${actor.id}`;
  }
  const executionPrefix = rules.workflows[writer];
  if (executionPrefix !== undefined) {
    return actor.type === 'workflow' && actor.execution?.startsWith(executionPrefix)
      ? undefined
      : `workflow writer ${writer} may record only its own executions (${executionPrefix}…), not ${actor.type} ${actor.execution ?? actor.id}`;
  }
  if (writer.startsWith(PRINCIPAL_PREFIX))
    return principalProblem(writer.slice(PRINCIPAL_PREFIX.length), actor);
  if (writer.startsWith(OPERATOR_PREFIX) && rules.localOperators) {
    const name = writer.slice(OPERATOR_PREFIX.length);
    return actor.type === 'operator' && actor.id === `operator:${name}`
      ? undefined
      : `operator ${name} may record only as operator:${name}, not ${actor.type} ${actor.id}`;
  }
  return `unknown writer ${writer}`;
}

/**
 * A person records as the IAM principal IAM let write the namespace: `principalId` is their
 * `aws:userid`; for a role session it ends in the session name, which the ARN must end in too.
 */
function principalProblem(userId: string, actor: AuditRecord['actor']): string | undefined {
  if (actor.type !== 'iam-principal' || actor.principalId !== userId) {
    return `principal ${userId} may record only as itself, not ${actor.type} ${actor.principalId ?? actor.id}`;
  }
  const session = /:assumed-role\/[^/]+\/([^/]+)$/.exec(actor.id)?.[1];
  if (session !== undefined && !userId.endsWith(`:${session}`)) {
    return `role session ${actor.id} is not the session of user id ${userId}`;
  }
  return undefined;
}

/** Why a request may not be integrated, or undefined when it may. */
export function requestProblem(request: AppendRequest, rules: WriterRules): string | undefined {
  const bytes = new Uint8Array(Buffer.from(request.entry, 'utf8'));
  // Lone surrogates do not survive UTF-8: the stored string would not be the hashed bytes.
  if (Buffer.from(bytes).toString('utf8') !== request.entry) return 'the entry is not valid UTF-8 text';
  const computed = Buffer.from(leafHash(bytes)).toString('hex');
  if (computed !== request.leafHash) {
    return `the stated leaf hash ${describe(request.leafHash)} is not the hash of the entry (${computed})`;
  }
  let record: AuditRecord;
  try {
    record = parseEntry(request.entry);
  } catch (error) {
    if (error instanceof InvalidAuditRecordError)
      return `the entry is not a valid audit record: ${error.message}`;
    throw error;
  }
  return writerBindingProblem(request.writer, record, rules);
}

/** A writer-supplied value, safe to quote in a record: short, and only if it is what it claims to be. */
function describe(value: unknown): string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value) ? value : '(malformed)';
}

/** Hex SHA-256 of text, for naming what was quarantined without copying it. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
