/**
 * Offline verification of an export of every region's log, each log witnessed by the other
 * region's sequencer.
 *
 * What to verify comes from the auditor, never from the export: one pinned verifier key per log
 * (its name is the log's origin). Every pinned log must be in the export and every log in the
 * export must be pinned. A witness cosigns the other log's checkpoint with its own log key under
 * the name `witnessName(<its own origin>)`, so the pinned keys give both verifiers and the export
 * cannot bring its own. A cosigned checkpoint counts only if the witnessed log's key and the
 * witness's key both signed it; it is then a checkpoint trusted from outside the witnessed log,
 * and a history rewritten and re-signed with that log's own key disagrees with it.
 */
import { witnessName } from './ledger-contract';
import { type NoteVerifier, openCheckpoint, openNote, parseVerifierKey } from './signed-note';
import {
  type LedgerExportContents,
  type LedgerVerification,
  type NamedNote,
  verifyLedgerExport,
} from './verify-export';

/** A checkpoint of another log that this log's witness cosigned, as found in this log's export. */
export interface CosignedNote extends NamedNote {
  /** The witnessed log's origin: which pinned key must have signed the note. */
  readonly origin: string;
}

export interface ExportedLog {
  readonly contents: LedgerExportContents;
  /** The other logs' checkpoints this log's witness cosigned. */
  readonly cosigned: readonly CosignedNote[];
}

export interface LedgerExportsInput {
  readonly logs: readonly ExportedLog[];
  /** c2sp vkeys (`<origin>+<hex key ID>+<base64>`), one or more per log: the logs to expect. */
  readonly verifierKeys: readonly string[];
  /** Checkpoints the auditor saw before, of any pinned log (routed by their origin line). */
  readonly trustedCheckpoints?: readonly NamedNote[];
}

/** A cosignature of a log's checkpoint that verified: which witness, at which size, where. */
export interface Witnessed {
  /** Origin of the witnessing log. */
  readonly by: string;
  readonly treeSize: number;
  readonly name: string;
}

export type LogVerification = LedgerVerification & {
  readonly origin: string;
  readonly witnessed: readonly Witnessed[];
};

export type LedgersVerification =
  | { readonly ok: true; readonly logs: readonly LogVerification[] }
  /** `problem` sums up every failed log, `<origin>: <its problem>`, for a one-line report. */
  | { readonly ok: false; readonly logs: readonly LogVerification[]; readonly problem: string };

/** Without pinned keys nothing could be verified, and trusting the export's own would prove nothing. */
export class MissingVerifierKeysError extends Error {
  override name = 'MissingVerifierKeysError';
}

/** The auditor's trusted checkpoint is for a log no pinned key signs, so it could never be checked. */
export class UnpinnedTrustedCheckpointError extends Error {
  override name = 'UnpinnedTrustedCheckpointError';
}

/** Two logs pinned with the same key: each would witness itself, which proves nothing. */
export class SharedLogKeyError extends Error {
  override name = 'SharedLogKeyError';
}

type Failure = Extract<LedgerVerification, { ok: false }>;

export function verifyLedgerExports(input: LedgerExportsInput): LedgersVerification {
  const pinned = pinKeys(input.verifierKeys);
  const trusted = new Map<string, NamedNote[]>([...pinned.keys()].map((origin) => [origin, []]));
  for (const checkpoint of input.trustedCheckpoints ?? []) {
    const origin = checkpointOrigin(checkpoint.note);
    const forLog = trusted.get(origin);
    if (!forLog) {
      throw new UnpinnedTrustedCheckpointError(
        `trusted checkpoint ${checkpoint.name} is for "${origin}", which no pinned key signs`,
      );
    }
    forLog.push(checkpoint);
  }

  // Failures that leave nothing to verify (the log is not pinned, or is there twice), and the first
  // cosigned checkpoint in a log's export that does not count, reported if the log itself verifies.
  const refused = new Map<ExportedLog, Failure>();
  const cosignProblems = new Map<ExportedLog, Failure>();
  const exported = new Map<string, ExportedLog>();
  for (const log of input.logs) {
    const origin = log.contents.origin;
    if (!pinned.has(origin)) {
      refused.set(log, { ok: false, problem: `not pinned: ${origin}` });
    } else if (exported.has(origin)) {
      refused.set(log, { ok: false, problem: `the export holds ${origin} twice` });
    } else {
      exported.set(origin, log);
    }
  }

  const witnessed = new Map<string, Witnessed[]>([...exported.keys()].map((origin) => [origin, []]));
  for (const [by, witness] of exported) {
    for (const cosigned of witness.cosigned) {
      // A log witnessing itself would add its own signature twice, proving nothing.
      const log = cosigned.origin === by ? undefined : exported.get(cosigned.origin);
      if (!log) {
        const why =
          cosigned.origin === by
            ? "is of the witness's own log: a log cannot witness itself"
            : pinned.has(cosigned.origin)
              ? `is of ${cosigned.origin}, which is not in the export`
              : `is of ${cosigned.origin}, which no pinned key signs`;
        addProblem(cosignProblems, witness, {
          ok: false,
          problem: `cosigned checkpoint ${cosigned.name} ${why}`,
          badCheckpoint: cosigned.name,
        });
        continue;
      }
      const opened = openCosigned(cosigned, pinned, by);
      if ('refused' in opened) {
        // Reported with the witness, whose export holds the file; a cosignature that verifies but
        // disagrees with the witnessed log is that log's failure (a fork), found by its verification.
        addProblem(cosignProblems, witness, {
          ok: false,
          problem: `cosigned checkpoint ${cosigned.name} of ${cosigned.origin}: ${opened.refused}`,
          badCheckpoint: cosigned.name,
        });
      } else {
        trusted.get(cosigned.origin)?.push(cosigned);
        witnessed.get(cosigned.origin)?.push({ by, treeSize: opened.treeSize, name: cosigned.name });
      }
    }
  }

  const logs: LogVerification[] = input.logs.map((log) => {
    const origin = log.contents.origin;
    const own =
      refused.get(log) ??
      verifyLedgerExport(log.contents, pinned.get(origin) ?? [], trusted.get(origin) ?? []);
    // The log's own failure names its own file first (e.g. every checkpoint under a wrong key).
    const verification = own.ok ? (cosignProblems.get(log) ?? own) : own;
    return { ...verification, origin, witnessed: witnessed.get(origin) ?? [] };
  });
  for (const origin of pinned.keys()) {
    if (!exported.has(origin)) {
      logs.push({
        ok: false,
        problem: `the export has no log of pinned key ${origin}`,
        origin,
        witnessed: [],
      });
    }
  }
  const failed = logs.flatMap((log) => (log.ok ? [] : [`${log.origin}: ${log.problem}`]));
  return failed.length === 0 ? { ok: true, logs } : { ok: false, logs, problem: failed.join('; ') };
}

function addProblem(problems: Map<ExportedLog, Failure>, log: ExportedLog, failure: Failure): void {
  if (!problems.has(log)) problems.set(log, failure);
}

/** The pinned verifiers by log origin (a log may have several keys, e.g. across a rotation). */
function pinKeys(verifierKeys: readonly string[]): Map<string, NoteVerifier[]> {
  if (verifierKeys.length === 0) {
    throw new MissingVerifierKeysError(
      'no verifier key is pinned: pass the public key of every log to verify',
    );
  }
  const pinned = new Map<string, NoteVerifier[]>();
  const originOfKey = new Map<string, string>();
  // The same key pinned twice is one key; openNote refuses two verifiers with one name and ID.
  for (const vkey of new Set(verifierKeys)) {
    const verifier = parseVerifierKey(vkey);
    // Everything after the name identifies the key material: the key ID and the encoded key.
    const material = vkey.slice(vkey.indexOf('+') + 1);
    const other = originOfKey.get(material);
    if (other !== undefined && other !== verifier.keyName) {
      throw new SharedLogKeyError(
        `${other} and ${verifier.keyName} are pinned with the same key: their witnesses would prove nothing`,
      );
    }
    originOfKey.set(material, verifier.keyName);
    pinned.set(verifier.keyName, [...(pinned.get(verifier.keyName) ?? []), verifier]);
  }
  return pinned;
}

/**
 * A cosigned checkpoint's tree size if both the witnessed log's keys and the witness's keys signed
 * it, or why it is refused. The witness verifiers are the witness log's pinned keys under the
 * witness name. Each check is made with one party's keys alone, so neither signature can stand in
 * for the other (openNote ignores the signatures of keys it was not given).
 */
function openCosigned(
  cosigned: CosignedNote,
  pinned: ReadonlyMap<string, readonly NoteVerifier[]>,
  witnessOrigin: string,
): { readonly treeSize: number } | { readonly refused: string } {
  let treeSize: number;
  try {
    treeSize = openCheckpoint(cosigned.note, cosigned.origin, pinned.get(cosigned.origin) ?? []).checkpoint
      .treeSize;
  } catch (error) {
    return { refused: `the log's signature: ${(error as Error).message}` };
  }
  const witness = (pinned.get(witnessOrigin) ?? []).map((verifier): NoteVerifier => ({
    ...verifier,
    keyName: witnessName(witnessOrigin),
  }));
  try {
    openNote(cosigned.note, witness);
  } catch (error) {
    return { refused: `the witness's cosignature: ${(error as Error).message}` };
  }
  return { treeSize };
}

/** A checkpoint note's first line, its origin; the signatures are checked once it is routed. */
function checkpointOrigin(note: string): string {
  const end = note.indexOf('\n');
  return end < 0 ? note : note.slice(0, end);
}
