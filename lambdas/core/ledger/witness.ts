/**
 * Each region's sequencer witnesses the other region's log: it cosigns the other log's latest
 * checkpoint once it has checked that checkpoint's signature (under a key pinned on first contact)
 * and that it extends the last checkpoint it cosigned (an RFC 9162 consistency proof). The
 * cosignature is kept in its own region's Object-Locked archive, so a rewrite of one region's
 * history is contradicted by a signature made, and locked, under the other region's key.
 *
 * The cosignature is a c2sp.org/signed-note signature of type 0x02 (ECDSA P-256, the type the
 * signed-note registry assigns to transparency-dev/witness) by the region's own log key under the
 * name `witnessName(origin)`, over the other log's checkpoint text. It is not c2sp.org/tlog-cosignature
 * v1: that needs Ed25519 or ML-DSA keys, whose KMS support in GovCloud is not established.
 */
import { type AuditTrail, IdempotencyConflictError } from './ledger';
import { SEQUENCER_ACTOR_ID } from './ledger-contract';
import { type Hash, verifyConsistency } from './merkle';
import type { CheckpointArchive, CosignedCheckpoint, LedgerStore, StoredCheckpoint } from './ports';
import { sha256Hex } from './request-checks';
import {
  cosignNote,
  type NoteSigner,
  openCheckpoint,
  type ParsedCheckpoint,
  parseVerifierKey,
} from './signed-note';

/** The other region's log, read-only, as the witness sees it across regions. */
export interface WitnessedLog {
  readonly origin: string;
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  consistencyProof(oldSize: number, newSize: number): Promise<Hash[]>;
  /** The log's signing key as a c2sp vkey (`<origin>+<key id>+<key>`), read only on first contact. */
  verifierKey(): Promise<string>;
}

export type WitnessOutcome =
  | {
      readonly status: 'cosigned';
      readonly origin: string;
      readonly treeSize: number;
      readonly since?: number;
    }
  | { readonly status: 'up-to-date'; readonly origin: string; readonly treeSize: number }
  | { readonly status: 'nothing-to-witness'; readonly origin: string }
  /** The other region could not be reached (it may be the one that is down); the next run catches up. */
  | { readonly status: 'unreachable'; readonly origin: string; readonly reason: string }
  /** The other log showed a checkpoint that contradicts what was cosigned: recorded in this ledger. */
  | { readonly status: 'inconsistent'; readonly origin: string; readonly reason: string };

export interface LedgerWitnessOptions {
  readonly store: LedgerStore;
  readonly archive: CheckpointArchive;
  /** This region's log key, already named as its witness (`signerNamed(signer, witnessName(origin))`). */
  readonly signer: NoteSigner;
  /** Where a contradiction is recorded: the sequencer's own records in this region's ledger. */
  readonly trail: AuditTrail;
  readonly clock?: () => Date;
}

export class LedgerWitness {
  private readonly clock: () => Date;

  constructor(private readonly options: LedgerWitnessOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  async witness(log: WitnessedLog): Promise<WitnessOutcome> {
    const { origin } = log;
    let latest: StoredCheckpoint | undefined;
    let state: Awaited<ReturnType<LedgerStore['readWitnessState']>>;
    let pinned: string;
    try {
      latest = await log.latestCheckpoint();
      if (!latest) return { status: 'nothing-to-witness', origin };
      state = await this.options.store.readWitnessState(origin);
      pinned =
        state?.verifierKey ?? (await this.options.store.pinWitnessedKey(origin, await log.verifierKey()));
    } catch (error) {
      return { status: 'unreachable', origin, reason: (error as Error).message };
    }
    let checkpoint: ParsedCheckpoint;
    try {
      checkpoint = openCheckpoint(latest.note, origin, [parseVerifierKey(pinned)]).checkpoint;
    } catch (error) {
      return this.inconsistent(
        origin,
        latest.note,
        `its checkpoint does not verify under the pinned key: ${(error as Error).message}`,
      );
    }
    const rootHash = Buffer.from(checkpoint.rootHash).toString('hex');
    const previous = state?.latest;
    if (previous) {
      if (checkpoint.treeSize < previous.treeSize) {
        return this.inconsistent(
          origin,
          latest.note,
          `it went back from ${previous.treeSize} entries (cosigned) to ${checkpoint.treeSize}`,
        );
      }
      if (checkpoint.treeSize === previous.treeSize) {
        return rootHash === previous.rootHash
          ? { status: 'up-to-date', origin, treeSize: checkpoint.treeSize }
          : this.inconsistent(
              origin,
              latest.note,
              `its tree of ${checkpoint.treeSize} entries has another root than the one cosigned`,
            );
      }
      let proof: Hash[] = [];
      try {
        // Every tree extends the empty one: there is nothing to prove from size 0.
        if (previous.treeSize > 0) proof = await log.consistencyProof(previous.treeSize, checkpoint.treeSize);
      } catch (error) {
        return { status: 'unreachable', origin, reason: (error as Error).message };
      }
      const consistent =
        previous.treeSize === 0 ||
        verifyConsistency(
          previous.treeSize,
          checkpoint.treeSize,
          Buffer.from(previous.rootHash, 'hex'),
          checkpoint.rootHash,
          proof,
        );
      if (!consistent) {
        return this.inconsistent(
          origin,
          latest.note,
          `its tree of ${checkpoint.treeSize} entries does not extend the cosigned tree of ${previous.treeSize}`,
        );
      }
    }
    const cosigned: CosignedCheckpoint = {
      origin,
      treeSize: checkpoint.treeSize,
      note: await cosignNote(latest.note, this.options.signer),
    };
    // Archived first, as checkpoints are: what the table says was cosigned is always locked.
    const archived = await this.options.archive.putCosigned(cosigned);
    await this.options.store.recordCosigned(archived, rootHash, previous?.version ?? 0);
    return {
      status: 'cosigned',
      origin,
      treeSize: checkpoint.treeSize,
      ...(previous && { since: previous.treeSize }),
    };
  }

  /** A contradiction is evidence: the offending note goes into this region's ledger, signed there. */
  private async inconsistent(origin: string, note: string, reason: string): Promise<WitnessOutcome> {
    await this.options.trail
      .append(
        {
          action: 'ledger.witness-contradiction',
          target: { type: 'ledger', id: origin },
          actor: { type: 'system', id: SEQUENCER_ACTOR_ID },
          occurredAt: this.clock().toISOString(),
          inputs: { reason, checkpoint: note },
          outcome: 'failed',
        },
        `witness-contradiction/${sha256Hex(`${origin}\n${note}`)}`,
      )
      .catch((error: unknown) => {
        // Seen before (a later run met the same note): the first record of it stands.
        if (!(error instanceof IdempotencyConflictError)) throw error;
      });
    return { status: 'inconsistent', origin, reason };
  }
}
