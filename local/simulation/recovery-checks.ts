import type { JsonValue, PeerEndpoints } from '../../lambdas/core/operations/cluster';
import {
  CHECK_CONNECT_FAILURE_MS,
  CHECKSUM_CHECK_MS,
  ENDPOINT_CHECK_MS,
  ROW_COUNT_CHECK_MS,
} from './durations';
import { asRecord } from './kubernetes-model';
import type { RestoredDatabaseConnection } from './simulated-rds-recovery';

/**
 * The checks a DR validation Job runs, judged from the world at the moment its pod runs them. A
 * Job is a check when annotated `aor.phoenixrooivalk.mil/check`:
 *
 * - `endpoint`: GETs the first `http(s)://` URL in its pod template (args, command or env), whose
 *   host is a Service (`svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`; the Job's own
 *   namespace when only `svc`). Passes while the Service has a ready endpoint.
 * - `row-counts` / `checksums`: connects to the restored database whose endpoint address appears
 *   in its pod template (e.g. env `PGHOST`), and compares each table's rows (or checksum) with what
 *   env `EXPECTED_TABLES` lists: the integrity manifest's `tables`, as JSON. Passes when all match.
 *
 * Either way the container writes one JSON report as its last log line and termination message,
 * and exits 0 when the check passed, 1 when it did not.
 */

export const CHECK_ANNOTATION = 'aor.phoenixrooivalk.mil/check';
export const EXPECTED_TABLES_ENV = 'EXPECTED_TABLES';
export const CHECK_KINDS = ['endpoint', 'row-counts', 'checksums'] as const;

const URL_IN_SPEC = /https?:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[^\s"'\\]*)?/;
const RDS_HOST_IN_SPEC = /[a-z0-9.-]+\.rds\.amazonaws\.com/i;
const POSTGRES_PORT = 5432;

export interface CheckVerdict {
  readonly passed: boolean;
  /** How long the check ran once its container had started. */
  readonly runMs: number;
  readonly report: { readonly [key: string]: JsonValue };
}

/** What a check can see of the world. */
export interface CheckWorld {
  /** A Service's endpoints at `t`; undefined when no such Service exists. */
  serviceEndpoints(namespace: string, service: string, t: number): PeerEndpoints | undefined;
  /** The restored database at `host` as a client connecting at `t` finds it. */
  database(host: string, t: number): RestoredDatabaseConnection | undefined;
  /** The endpoint addresses of restored databases. */
  databaseHosts(): readonly string[];
}

/** The Job's check, when it is one. */
export function checkOf(metadata: Record<string, unknown>): string | undefined {
  const value = asRecord(metadata.annotations)[CHECK_ANNOTATION];
  return typeof value === 'string' ? value : undefined;
}

function failed(check: string, error: string, runMs = CHECK_CONNECT_FAILURE_MS): CheckVerdict {
  return { passed: false, runMs, report: { check, passed: false, error } };
}

/** The Service a cluster DNS name resolves to. */
function serviceOf(hostname: string, namespace: string): { namespace: string; name: string } | undefined {
  const [name, ns, ...rest] = hostname.toLowerCase().split('.');
  const suffix = rest.join('.');
  if (!name) return undefined;
  if (ns === undefined) return { namespace, name };
  return ['', 'svc', 'svc.cluster.local'].includes(suffix) ? { namespace: ns, name } : undefined;
}

function endpointCheck(spec: string, namespace: string, at: number, world: CheckWorld): CheckVerdict {
  const check = 'endpoint';
  const found = URL_IN_SPEC.exec(spec)?.[0];
  if (!found) return failed(check, 'no http(s) URL in the Job spec');
  const url = new URL(found);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const service = serviceOf(url.hostname, namespace);
  const endpoints = service && world.serviceEndpoints(service.namespace, service.name, at);
  if (!endpoints) return failed(check, `curl: (6) Could not resolve host: ${url.hostname}`);
  if (endpoints.ready === 0) {
    return failed(check, `curl: (7) Failed to connect to ${url.hostname} port ${port}: Connection refused`);
  }
  return {
    passed: true,
    runMs: ENDPOINT_CHECK_MS,
    report: { check, passed: true, url: found, status: 200, readyEndpoints: endpoints.ready },
  };
}

function expectedTables(
  template: Record<string, unknown>,
): Record<string, Record<string, unknown>> | undefined {
  const containers = asRecord(template.spec).containers;
  for (const container of Array.isArray(containers) ? containers : []) {
    const env = asRecord(container).env;
    for (const variable of Array.isArray(env) ? env : []) {
      const { name, value } = asRecord(variable);
      if (name !== EXPECTED_TABLES_ENV || typeof value !== 'string') continue;
      try {
        const parsed: unknown = JSON.parse(value);
        const tables = asRecord(parsed);
        return Object.keys(tables).length === 0
          ? undefined
          : Object.fromEntries(Object.entries(tables).map(([table, entry]) => [table, asRecord(entry)]));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function integrityCheck(
  check: 'row-counts' | 'checksums',
  spec: string,
  template: Record<string, unknown>,
  at: number,
  world: CheckWorld,
): CheckVerdict {
  const field = check === 'row-counts' ? 'rows' : 'checksum';
  const expected = expectedTables(template);
  if (!expected) return failed(check, `${EXPECTED_TABLES_ENV} is not set to a JSON object of tables`);
  const compared = Object.entries(expected).filter(([, entry]) => entry[field] !== undefined);
  if (compared.length === 0) return failed(check, `${EXPECTED_TABLES_ENV} lists no table's ${field}`);
  const lowered = spec.toLowerCase();
  const host =
    world.databaseHosts().find((each) => lowered.includes(each)) ?? RDS_HOST_IN_SPEC.exec(spec)?.[0];
  if (!host) return failed(check, 'no database host in the Job spec');
  const database = world.database(host, at);
  if (!database) {
    return failed(
      check,
      `psql: error: could not translate host name "${host}" to address: Name or service not known`,
    );
  }
  if (!database.acceptsConnections) {
    return failed(
      check,
      `psql: error: connection to server at "${host}", port ${POSTGRES_PORT} failed: Connection refused (database ${database.status})`,
    );
  }
  const tables = Object.fromEntries(
    compared.map(([table, entry]) => [
      table,
      { expected: entry[field] as JsonValue, actual: database.tables[table]?.[field] ?? null },
    ]),
  );
  const mismatched = Object.entries(tables)
    .filter(([, { expected: want, actual }]) => want !== actual)
    .map(([table]) => table);
  const passed = mismatched.length === 0;
  return {
    passed,
    runMs: check === 'row-counts' ? ROW_COUNT_CHECK_MS : CHECKSUM_CHECK_MS,
    report: { check, passed, database: database.identifier, tables, mismatched },
  };
}

/** Runs the check as of `at` (its container's start) for a pod of the Job's `template`. */
export function runCheck(
  check: string,
  template: Record<string, unknown>,
  namespace: string,
  at: number,
  world: CheckWorld,
): CheckVerdict {
  const spec = JSON.stringify(template);
  switch (check) {
    case 'endpoint':
      return endpointCheck(spec, namespace, at, world);
    case 'row-counts':
    case 'checksums':
      return integrityCheck(check, spec, template, at, world);
    default:
      return failed(
        check,
        `unknown check ${JSON.stringify(check)}: expected one of ${CHECK_KINDS.join(', ')}`,
      );
  }
}
