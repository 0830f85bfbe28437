import type { JsonValue } from '../../lambdas/core/operations/cluster';
import {
  CHECK_CONNECT_FAILURE_MS,
  CHECKSUM_CHECK_MS,
  ENDPOINT_CHECK_MS,
  JOB_DEFAULT_RUN_MS,
  JOB_FAILED_ATTEMPT_MS,
  ROW_COUNT_CHECK_MS,
  S3_SYNC_BYTES_PER_SECOND,
} from './durations';
import { parseS3Uri, type S3Read } from './simulated-s3';
import type { RestoredDatabaseConnection } from './simulated-rds-recovery';

/**
 * The container images the DR run's Jobs use, simulated by what they would do: a small registry
 * keyed by repository name (its last path segment, so a mirror in any registry is the same image),
 * each with its ENTRYPOINT, CMD, working directory and the executables on its PATH. A container's
 * argv is built as the kubelet builds it (`command` replaces ENTRYPOINT and drops CMD, `args`
 * replaces CMD); an executable the image does not have fails to start; a program runs as the real
 * one would with that argv and environment against the simulated world, and its exit code and output
 * are what that program prints:
 *
 * - `aws` (AWS CLI v2, entrypoint `aws`): `aws s3 sync s3://… <dir>`, with the pod's IAM role (IRSA)
 *   or, without one, "Unable to locate credentials" (pods are assumed to be kept from the node's
 *   instance metadata, hop limit 1); a first word that is no AWS CLI command is an "Invalid choice".
 * - `curl`: an HTTP GET of a Service by its cluster DNS name, with curl's exit codes.
 * - `psql`: a connection to a restored database, then one statement: the integrity check's PL/pgSQL
 *   block, which measures the tables its JSON literal lists and raises when one differs.
 *
 * Anything else an image has but the simulation does not model (a shell, another AWS command, other
 * SQL) is an UnmodelledContainerError: a drill never passes or fails on a guess.
 */

export interface ContainerWorld {
  /** What a pod copying from this S3 location finds there, as its IAM role. */
  readS3(uri: string): S3Read;
  bucketExists(bucket: string): boolean;
  /** The Service a pod in `namespace` reaches by `hostname`; undefined when the name does not resolve to one. */
  service(namespace: string, hostname: string, t: number): ServiceView | undefined;
  /** The restored database at `host` as a client connecting at `t` finds it. */
  database(host: string, t: number): RestoredDatabaseConnection | undefined;
}

export interface ServiceView {
  readonly name: string;
  /** False for a headless Service (clusterIP None): its name resolves to the ready pods' addresses only. */
  readonly hasClusterIP: boolean;
  readonly ports: readonly number[];
  readonly readyEndpoints: number;
}

export interface ContainerInvocation {
  readonly namespace: string;
  readonly image: string;
  readonly command: readonly string[] | undefined;
  readonly args: readonly string[] | undefined;
  readonly env: Readonly<Record<string, string>>;
  /** The IAM role ARN the pod's service account is annotated with (IRSA), if any. */
  readonly awsRole: string | undefined;
  /** When the container starts. */
  readonly at: number;
}

export interface ContainerRun {
  readonly exitCode: number;
  readonly runMs: number;
  /** What it writes, each line at an offset from its start. */
  readonly log: readonly { readonly offsetMs: number; readonly text: string }[];
  /** The runtime could not start it: exit code 128, reason StartError, this message. */
  readonly startError?: string;
}

/** A container ran something the simulation cannot tell the outcome of. */
export class UnmodelledContainerError extends Error {
  override name = 'UnmodelledContainerError';
}

type Program = (argv: readonly string[], context: ProgramContext) => ContainerRun;

interface ProgramContext extends ContainerInvocation {
  readonly world: ContainerWorld;
  readonly model: ImageModel;
}

interface ImageModel {
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly workdir: string;
  /** The executables on its PATH, by name, and what they do (null: present, not modelled). */
  readonly executables: Readonly<Record<string, Program | null>>;
}

const AWS_CLI_USAGE = [
  'usage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]',
  'To see help text, you can run:',
  '',
  '  aws help',
  '  aws <command> help',
  '  aws <command> <subcommand> help',
  '',
];
/** AWS CLI commands the simulation knows exist (it models `s3 sync` of them); any other first word is an invalid choice. */
const AWS_CLI_COMMANDS = new Set([
  's3',
  's3api',
  'sts',
  'configure',
  'ec2',
  'ecr',
  'eks',
  'iam',
  'kms',
  'logs',
  'rds',
  'route53',
  'secretsmanager',
  'sns',
  'ssm',
]);
const S3_SYNC_QUIET_FLAGS = new Set(['--only-show-errors', '--quiet']);
const S3_SYNC_FLAGS = new Set([...S3_SYNC_QUIET_FLAGS, '--no-progress', '--exact-timestamps', '--size-only']);
const POSTGRES_PORT = 5432;

function lines(offsetMs: number, texts: readonly string[]) {
  return texts.map((text) => ({ offsetMs, text }));
}

function exit(exitCode: number, runMs: number, texts: readonly string[] = []): ContainerRun {
  return { exitCode, runMs, log: lines(runMs, texts) };
}

/** The repository's name: `…/mirror/aws-cli:2.22.35@sha256:…` is `aws-cli`. */
export function repositoryName(image: string): string {
  const withoutDigest = image.split('@')[0] ?? '';
  const last = withoutDigest.split('/').at(-1) ?? '';
  return last.split(':')[0] ?? '';
}

function posixRelative(from: string, to: string): string {
  const parts = (path: string) => path.split('/').filter(Boolean);
  const base = parts(from);
  const target = parts(to);
  let common = 0;
  while (common < base.length && base[common] === target[common]) common += 1;
  return [...base.slice(common).map(() => '..'), ...target.slice(common)].join('/') || '.';
}

/** `aws`: the AWS CLI v2's argument parsing and its `s3 sync`. */
const awsCli: Program = (argv, context) => {
  const [, command, subcommand, ...rest] = argv;
  if (command === undefined) {
    return exit(252, CHECK_CONNECT_FAILURE_MS, [
      ...AWS_CLI_USAGE,
      'aws: error: the following arguments are required: command',
    ]);
  }
  if (!AWS_CLI_COMMANDS.has(command)) {
    return exit(252, CHECK_CONNECT_FAILURE_MS, [
      ...AWS_CLI_USAGE,
      'aws: error: argument command: Invalid choice, valid choices are:',
    ]);
  }
  if (command !== 's3' || subcommand !== 'sync') {
    throw new UnmodelledContainerError(
      `the simulated AWS CLI runs \`aws s3 sync\` only, not: ${argv.join(' ')}`,
    );
  }
  const unknown = rest.filter((arg) => arg.startsWith('--') && !S3_SYNC_FLAGS.has(arg));
  if (unknown.length > 0)
    return exit(252, CHECK_CONNECT_FAILURE_MS, [`aws: error: Unknown options: ${unknown.join(',')}`]);
  const paths = rest.filter((arg) => !arg.startsWith('--'));
  const [source, destination] = paths;
  if (
    paths.length !== 2 ||
    !source?.startsWith('s3://') ||
    destination === undefined ||
    destination.startsWith('s3://')
  ) {
    throw new UnmodelledContainerError(
      `the simulated AWS CLI syncs from S3 to a local directory only: ${argv.join(' ')}`,
    );
  }
  const fatal = (message: string) => exit(1, JOB_FAILED_ATTEMPT_MS, [`fatal error: ${message}`]);
  if (context.awsRole === undefined && context.env.AWS_ACCESS_KEY_ID === undefined) {
    return fatal('Unable to locate credentials');
  }
  if (!context.world.bucketExists(parseS3Uri(source).bucket)) {
    return fatal(
      'An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation: The specified bucket does not exist',
    );
  }
  const read = context.world.readS3(source);
  if (read.kind === 'denied') {
    return fatal(
      `An error occurred (AccessDenied) when calling the ListObjectsV2 operation: ${read.message}`,
    );
  }
  // An empty prefix is nothing to sync: the CLI succeeds having copied nothing.
  if (read.kind === 'empty') return exit(0, JOB_DEFAULT_RUN_MS);
  const quiet = rest.some((arg) => S3_SYNC_QUIET_FLAGS.has(arg));
  const log: { offsetMs: number; text: string }[] = [];
  let copied = 0;
  for (const object of read.objects) {
    copied += object.bytes;
    const relative = object.uri.slice(source.length).replace(/^\//, '');
    const target = posixRelative(context.model.workdir, `${destination.replace(/\/$/, '')}/${relative}`);
    const offsetMs = Math.round((copied / S3_SYNC_BYTES_PER_SECOND) * 1000);
    if (!quiet) log.push({ offsetMs, text: `download: ${object.uri} to ${target}` });
  }
  return { exitCode: 0, runMs: Math.round((copied / S3_SYNC_BYTES_PER_SECOND) * 1000), log };
};

const CURL_BOOLEAN_FLAGS = new Set([
  '--fail',
  '-f',
  '--silent',
  '-s',
  '--show-error',
  '-S',
  '--location',
  '-L',
]);
const CURL_VALUE_FLAGS = new Set(['--max-time', '-m', '--output', '-o']);

/** `curl`: a GET of a Service by its cluster DNS name, as kube-proxy and CoreDNS answer it. */
const curl: Program = (argv, context) => {
  const flags = new Map<string, string>();
  const urls: string[] = [];
  for (let index = 1; index < argv.length; index += 1) {
    const arg = argv[index] ?? '';
    if (CURL_VALUE_FLAGS.has(arg)) {
      flags.set(arg, argv[index + 1] ?? '');
      index += 1;
    } else if (CURL_BOOLEAN_FLAGS.has(arg)) flags.set(arg, '');
    else if (arg.startsWith('-'))
      throw new UnmodelledContainerError(`the simulated curl does not model ${arg}`);
    else urls.push(arg);
  }
  const [target] = urls;
  if (target === undefined || urls.length > 1) {
    throw new UnmodelledContainerError(`the simulated curl fetches exactly one URL: ${argv.join(' ')}`);
  }
  const has = (...names: string[]) => names.some((name) => flags.has(name));
  const silent = has('--silent', '-s') && !has('--show-error', '-S');
  const fail = (code: number, runMs: number, message: string) =>
    exit(code, runMs, silent ? [] : [`curl: (${code}) ${message}`]);
  const url = new URL(target);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const service = context.world.service(context.namespace, url.hostname, context.at);
  // A headless Service's name resolves to its ready pods only: none ready, no address at all.
  if (!service || (!service.hasClusterIP && service.readyEndpoints === 0)) {
    return fail(6, CHECK_CONNECT_FAILURE_MS, `Could not resolve host: ${url.hostname}`);
  }
  if (service.hasClusterIP && !service.ports.includes(port)) {
    // No kube-proxy rule for that port: the SYN goes nowhere until curl gives up.
    const maxTime = Number(flags.get('--max-time') ?? flags.get('-m') ?? 300);
    return fail(28, maxTime * 1000, `Connection timed out after ${maxTime * 1000 + 1} milliseconds`);
  }
  if (service.readyEndpoints === 0) {
    // kube-proxy rejects connections to a Service without ready endpoints.
    return fail(
      7,
      CHECK_CONNECT_FAILURE_MS,
      `Failed to connect to ${url.hostname} port ${port} after 1 ms: Couldn't connect to server`,
    );
  }
  // The applications' HTTP handlers are not modelled: a ready endpoint answers 200, with no body kept.
  return exit(0, ENDPOINT_CHECK_MS);
};

/** jsonb's text form: keys shortest first, then bytewise, `": "` and `", "` between. */
function jsonbText(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((key) => `${JSON.stringify(key)}: ${jsonbText(value[key] ?? null)}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** A stable pretend address for a host name, as psql names the address it tried. */
function addressOf(host: string): string {
  let hash = 0;
  for (const character of host) hash = (hash * 31 + character.charCodeAt(0)) >>> 0;
  return `10.40.${(hash >>> 8) % 4}.${10 + (hash % 240)}`;
}

const PSQL_BOOLEAN_FLAGS = new Set(['--no-psqlrc', '-X', '--quiet', '-q']);
const PSQL_VALUE_FLAGS = new Set([
  '--command',
  '-c',
  '--host',
  '-h',
  '--port',
  '-p',
  '--username',
  '-U',
  '--dbname',
  '-d',
  '--set',
  '-v',
]);

/**
 * The integrity check's PL/pgSQL block, evaluated: the tables and expected values of its
 * dollar-quoted JSON literal, measured (`count(*)` or the md5 checksum) in the restored database and
 * compared as its IF says (equal, or at least the expected count); a NOTICE with the report; an
 * exception, so `psql` exits 1, when any differs.
 */
function integrityBlock(sql: string, database: RestoredDatabaseConnection): ContainerRun {
  const literal = /\$(\w*)\$(\{[\s\S]*?\})\$\1\$/.exec(sql)?.[2];
  const measures = /count\(\*\)/.test(sql) ? 'rows' : /md5\(/.test(sql) ? 'checksum' : undefined;
  const check = /jsonb_build_object\('check', '([^']+)'/.exec(sql)?.[1];
  const raised = /RAISE EXCEPTION '([^'%]*)%'/.exec(sql)?.[1];
  const comparison = /IF actual IS DISTINCT FROM item\.value THEN/.test(sql)
    ? 'equal'
    : /IF actual IS NULL OR actual::numeric < item\.value::numeric THEN/.test(sql)
      ? 'at-least'
      : undefined;
  if (
    !/^\s*DO\s/i.test(sql) ||
    literal === undefined ||
    measures === undefined ||
    comparison === undefined ||
    !check ||
    !raised
  ) {
    throw new UnmodelledContainerError(
      `the simulated psql evaluates the integrity check's block only, not: ${sql.slice(0, 120)}`,
    );
  }
  const expected = JSON.parse(literal) as Record<string, JsonValue>;
  const tables: Record<string, JsonValue> = {};
  const mismatched: string[] = [];
  for (const table of Object.keys(expected).sort()) {
    const want = expected[table] ?? null;
    const actual = database.tables[table]?.[measures] ?? null;
    tables[table] = { expected: want, actual };
    const differs =
      comparison === 'equal' ? actual !== want : actual === null || Number(actual) < Number(want);
    if (differs) mismatched.push(table);
  }
  const passed = mismatched.length === 0;
  const report = jsonbText({ check, comparison, passed, tables, mismatched });
  const runMs = measures === 'rows' ? ROW_COUNT_CHECK_MS : CHECKSUM_CHECK_MS;
  return exit(passed ? 0 : 1, runMs, [
    `NOTICE:  ${report}`,
    ...(passed
      ? []
      : [
          `ERROR:  ${raised}${mismatched.join(', ')}`,
          'CONTEXT:  PL/pgSQL function inline_code_block line 24 at RAISE',
        ]),
  ]);
}

/** `psql`: libpq's connection from its options and PG* environment, then the `--command`. */
const psql: Program = (argv, context) => {
  const options = new Map<string, string>();
  for (let index = 1; index < argv.length; index += 1) {
    const arg = argv[index] ?? '';
    if (PSQL_VALUE_FLAGS.has(arg)) {
      options.set(arg, argv[index + 1] ?? '');
      index += 1;
    } else if (!PSQL_BOOLEAN_FLAGS.has(arg)) {
      throw new UnmodelledContainerError(`the simulated psql does not model ${arg}`);
    }
  }
  const option = (long: string, short: string, variable: string) =>
    options.get(long) ?? options.get(short) ?? context.env[variable];
  const host = option('--host', '-h', 'PGHOST');
  const port = Number(option('--port', '-p', 'PGPORT') ?? POSTGRES_PORT);
  const sql = options.get('--command') ?? options.get('-c');
  if (sql === undefined) throw new UnmodelledContainerError('the simulated psql runs a --command only');
  const failed = (message: string) => exit(2, CHECK_CONNECT_FAILURE_MS, [`psql: error: ${message}`]);
  if (host === undefined) {
    return failed(
      'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory',
    );
  }
  const database = context.world.database(host, context.at);
  if (!database)
    return failed(`could not translate host name "${host}" to address: Name or service not known`);
  const server = `connection to server at "${host}" (${addressOf(host)}), port ${port} failed`;
  if (!database.acceptsConnections || port !== POSTGRES_PORT) return failed(`${server}: Connection refused`);
  if (!context.env.PGPASSWORD) return failed(`${server}: fe_sendauth: no password supplied`);
  return integrityBlock(sql, database);
};

/** Runs what the arguments name, the way an entrypoint script's `exec "$@"` does. */
function execute(argv: readonly string[], context: ProgramContext): ContainerRun {
  const name = (argv[0] ?? '').split('/').at(-1) ?? '';
  const program = context.model.executables[name];
  if (program === undefined) {
    return {
      exitCode: 128,
      runMs: 0,
      log: [],
      startError: `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${argv[0] ?? ''}": executable file not found in $PATH: unknown`,
    };
  }
  if (program === null) {
    throw new UnmodelledContainerError(
      `the simulated ${context.image} has ${name} but does not model it: ${argv.join(' ')}`,
    );
  }
  return program(argv, context);
}

/** curlimages/curl's entrypoint.sh: flags (or no executable of that name) mean curl, anything else is run as is. */
const curlEntrypoint: Program = (argv, context) => {
  const rest = argv.slice(1);
  const first = rest[0];
  const asCurl = first === undefined || first.startsWith('-') || !(first in context.model.executables);
  return execute(asCurl ? ['curl', ...rest] : rest, context);
};

/** The postgres image's docker-entrypoint.sh: `postgres` starts a server, which an uninitialised volume and no password refuse. */
const postgresEntrypoint: Program = (argv, context) => {
  const rest = argv.slice(1);
  if (rest.length === 0 || rest[0]?.startsWith('-') || rest[0] === 'postgres') {
    if (context.env.POSTGRES_PASSWORD === undefined) {
      return exit(1, CHECK_CONNECT_FAILURE_MS, [
        'Error: Database is uninitialized and superuser password is not specified.',
      ]);
    }
    throw new UnmodelledContainerError('the simulated postgres image does not run a database server');
  }
  return execute(rest, context);
};

/** The registry the simulated cluster pulls from, by repository name. */
const IMAGES: Readonly<Record<string, ImageModel>> = {
  'aws-cli': {
    entrypoint: ['/usr/local/bin/aws'],
    cmd: [],
    workdir: '/aws',
    executables: { aws: awsCli, sh: null, bash: null, jq: null },
  },
  curl: {
    entrypoint: ['/entrypoint.sh'],
    cmd: ['curl'],
    workdir: '/home/curl_user',
    executables: { 'entrypoint.sh': curlEntrypoint, curl, sh: null },
  },
  postgres: {
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['postgres'],
    workdir: '/',
    executables: { 'docker-entrypoint.sh': postgresEntrypoint, psql, postgres: null, sh: null, bash: null },
  },
};

/** Why the kubelet cannot pull the image; undefined when the registry has it. */
export function imagePullProblem(image: string): string | undefined {
  return IMAGES[repositoryName(image)] === undefined
    ? `Back-off pulling image "${image}": ErrImagePull: failed to pull and unpack image "${image}": not found`
    : undefined;
}

/** The container's process from its start: the kubelet's argv, then what that program does. */
export function runContainer(invocation: ContainerInvocation, world: ContainerWorld): ContainerRun {
  const model = IMAGES[repositoryName(invocation.image)];
  if (!model) throw new UnmodelledContainerError(`no simulated image ${invocation.image}`);
  const argv =
    invocation.command !== undefined
      ? [...invocation.command, ...(invocation.args ?? [])]
      : [...model.entrypoint, ...(invocation.args ?? model.cmd)];
  return execute(argv, { ...invocation, world, model });
}
