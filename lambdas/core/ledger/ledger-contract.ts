/**
 * The audit ledger's contract with everything around it: physical names, who may write which
 * items, the environment of its functions and the outputs of its stacks. The CDK constructs (IAM
 * conditions, resource policies), the Lambda adapters and the `aor` CLI all import these, so a
 * rename cannot break production alone. Nothing here imports the CDK.
 */

/** One ledger per region, each with this table name (fixed so that grants need no cross-stack reference). */
export const LEDGER_TABLE_NAME = 'aor-audit-ledger';
/** The asymmetric key (ECC_NIST_P256) that signs the region's checkpoints and its witness cosignatures. */
export const LEDGER_SIGNING_KEY_ALIAS = 'alias/aor/audit-ledger-signing';
/** The symmetric key that encrypts the region's ledger table and logs. */
export const LEDGER_DATA_KEY_ALIAS = 'alias/aor/audit-ledger';

/** The C2SP checkpoint origin (and signing key name) of a region's log. */
export function ledgerOrigin(region: string, domain = 'phoenixrooivalk.mil'): string {
  return `${domain}/aor/audit-ledger/${region}`;
}

/**
 * The key name under which a region's sequencer cosigns the other region's checkpoints. It is the
 * log's own key, named differently: an auditor pins one key per region and derives both verifiers.
 */
export function witnessName(logOrigin: string): string {
  return `${logOrigin}/witness`;
}

/**
 * Writers: every append is stored under its writer's namespace, which IAM enforces (a writer may put
 * items only under its own prefix) and the sequencer checks against the record's actor before the
 * record enters the tree (a workflow may only record its own executions, a person only themself).
 */
export const WORKFLOW_WRITERS = {
  incidentResponse: 'incident-response',
  disasterRecovery: 'disaster-recovery',
} as const;
export type WorkflowWriter = (typeof WORKFLOW_WRITERS)[keyof typeof WORKFLOW_WRITERS];

/** The sequencer's own records (quarantines, witness findings). */
export const SEQUENCER_WRITER = 'ledger-sequencer';
export const SEQUENCER_ACTOR_ID = 'aor-ledger-sequencer';

/** A person or role, by the `aws:userid` IAM puts in the request context (e.g. `AROA…:alice`). */
export function principalWriter(userId: string): string {
  return `principal/${userId}`;
}
/** The same namespace as an IAM policy pattern: the caller's own user id, filled in by IAM. */
export const PRINCIPAL_WRITER_POLICY_VARIABLE = 'principal/${aws:userid}';
/** Every person's requests, as an IAM StringLike pattern (the table's policy lets a caller put only its own). */
export const PRINCIPAL_REQUESTS_PATTERN = `REQ#${principalWriter('*')}`;

/** An operator of the local drills (no IAM on this machine): `operator:<name>` records as `operator/<name>`. */
export function localOperatorWriter(name: string): string {
  return `operator/${name}`;
}

/** The role tag that entitles a workflow's task role to its writer namespace (checked by the table's policy). */
export const LEDGER_WRITER_TAG = 'aor:ledger-writer';

/**
 * The table's items by partition key. Every item is written once (`attribute_not_exists`), except the
 * head (compare-and-set) and the witness's latest state (compare-and-set).
 *
 * | pk | sk | written by |
 * |---|---|---|
 * | `REQ#<writer>#<key>` | `REQUEST` | the writer: an append as received |
 * | `PENDING` | `<pendingId>` | the writer: a pointer to its request, the sequencer's queue |
 * | `INDEX#<writer>#<key>` | `<index, 12 digits>` | the sequencer: where it placed the request (confirmed against the entry) |
 * | `ENTRIES#<index / 1000>` | `<index, 12 digits>` | the sequencer: the journal |
 * | `NODE#<level>#<index>` | `NODE` | the sequencer: perfect-subtree hashes, for proofs |
 * | `CHECKPOINT` | `<tree size, 12 digits>` | the sequencer: signed checkpoints |
 * | `HEAD` | `HEAD` | the sequencer: the committed tree head |
 * | `WITNESS#<origin>` | `KEY`, `LATEST`, `COSIGNED#<size>` | the sequencer: what it witnessed of the other log |
 */
export const LEDGER_PARTITIONS = {
  request: (writer: string, idempotencyKey: string) => `REQ#${writer}#${idempotencyKey}`,
  pending: 'PENDING',
  indexMarker: (writer: string, idempotencyKey: string) => `INDEX#${writer}#${idempotencyKey}`,
  entries: (partition: number) => `ENTRIES#${partition}`,
  node: (level: number, index: number) => `NODE#${level}#${index}`,
  checkpoint: 'CHECKPOINT',
  head: 'HEAD',
  witness: (origin: string) => `WITNESS#${origin}`,
} as const;

/** `dynamodb:LeadingKeys` patterns (IAM StringLike) for the grants and the table's resource policy. */
export const LEDGER_LEADING_KEYS = {
  /** A writer's own requests and the shared queue. */
  writer: (writer: string) => [`REQ#${writer}#*`, 'PENDING'],
  /**
   * A writer reads its requests, their index markers (GetItem, BatchGetItem and Query) and the
   * entries they name, to confirm a receipt for a repeated append, and the head.
   */
  writerReads: (writer: string) => [`REQ#${writer}#*`, `INDEX#${writer}#*`, 'ENTRIES#*', 'HEAD'],
  /** Partitions only the sequencer may write. */
  sequencerOnly: [
    'INDEX#*',
    'ENTRIES#*',
    'NODE#*',
    'CHECKPOINT',
    'HEAD',
    'WITNESS#*',
    `REQ#${SEQUENCER_WRITER}#*`,
  ],
  /** What the other region's witness reads of this log: checkpoints and tree nodes (consistency proofs). */
  witnessReads: ['CHECKPOINT', 'NODE#*'],
} as const;

/** Object keys in a region's Object-Locked archive. */
export const LEDGER_ARCHIVE_PREFIXES = {
  /** `checkpoints/<tree size, 12 digits>.note`: this log's signed checkpoints. */
  checkpoints: 'checkpoints/',
  /** `cosigned/<origin>/<tree size, 12 digits>.note`: the other log's checkpoints, cosigned by this region. */
  cosigned: 'cosigned/',
} as const;

/** The sequencer function's environment. */
export const SEQUENCER_ENVIRONMENT = {
  tableName: 'LEDGER_TABLE_NAME',
  origin: 'LEDGER_ORIGIN',
  signingKeyId: 'LEDGER_SIGNING_KEY_ID',
  archiveBucket: 'LEDGER_CHECKPOINT_BUCKET',
  /** JSON `{ "<workflow writer>": "<execution ARN prefix>" }`: the workflows that write this log. */
  workflowWriters: 'LEDGER_WORKFLOW_WRITERS',
  /** The other region, whose log this sequencer witnesses. */
  peerRegion: 'LEDGER_PEER_REGION',
} as const;

/** The environment of a function that appends to the ledger of its own region. */
export const WRITER_ENVIRONMENT = {
  tableName: 'LEDGER_TABLE_NAME',
  writer: 'LEDGER_WRITER',
} as const;

/** The ledger stacks, one per region, and their outputs (what `aor ledger export` and auditors read). */
export const LEDGER_STACK_NAMES = { primary: 'AorAuditLedger', dr: 'AorAuditLedgerDr' } as const;
export const LEDGER_STACK_OUTPUTS = {
  tableName: 'LedgerTableName',
  signingKeyArn: 'SigningKeyArn',
  archiveBucketName: 'CheckpointBucketName',
  origin: 'LedgerOrigin',
  breakGlassRoleArn: 'BreakGlassRoleArn',
  operatorPolicyArn: 'OperatorRecordingPolicyArn',
} as const;
