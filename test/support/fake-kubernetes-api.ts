import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubernetesConnection } from '../../lambdas/adapters/kubernetes/kubernetes-transport';

/**
 * A loopback stand-in for kube-apiserver (none can run here): plain HTTP on 127.0.0.1, an in-memory object
 * store with create/read/list/merge-patch/apply/delete, the scale and status subresources, pod logs, discovery
 * and /version. Every request is recorded for assertions; `intercept` scripts answers or state changes.
 */

export type JsonObject = Record<string, unknown>;

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  authorization: string | undefined;
  /** Parsed JSON if the body was JSON (AOR sends apply patches as JSON too), else the raw text. */
  body: unknown;
}

export interface Reply {
  status: number;
  body?: unknown;
  contentType?: string;
}

/** Returns a reply to short-circuit the store, or undefined to let the store answer (after changing it, say). */
export type Interceptor = (
  request: RecordedRequest,
  callNumber: number,
) => Reply | undefined | Promise<Reply | undefined>;

interface ResourceType {
  groupVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const RESOURCE_TYPES: ResourceType[] = [
  { groupVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  { groupVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  { groupVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { groupVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  { groupVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { groupVersion: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true },
  { groupVersion: 'v1', kind: 'Event', plural: 'events', namespaced: true },
  { groupVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { groupVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true },
  { groupVersion: 'batch/v1', kind: 'Job', plural: 'jobs', namespaced: true },
  {
    groupVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
  },
  { groupVersion: 'storage.k8s.io/v1', kind: 'StorageClass', plural: 'storageclasses', namespaced: false },
  { groupVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true },
];

function prefixOf(groupVersion: string): string {
  return groupVersion.includes('/') ? `/apis/${groupVersion}` : `/api/${groupVersion}`;
}

/** The URL of an object (or, without a name, of its collection). */
function objectPath(apiVersion: string, kind: string, namespace: string | undefined, name?: string): string {
  const type = RESOURCE_TYPES.find((t) => t.groupVersion === apiVersion && t.kind === kind);
  if (!type) throw new Error(`fake-kubernetes-api knows no ${apiVersion} ${kind}`);
  const scope = type.namespaced ? `/namespaces/${namespace}` : '';
  return `${prefixOf(apiVersion)}${scope}/${type.plural}${name === undefined ? '' : `/${name}`}`;
}

interface ParsedPath {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

function parsePath(path: string): ParsedPath | undefined {
  const match = /^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))\/(.*)$/.exec(path);
  if (!match) return undefined;
  const groupVersion = match[1] ?? match[2] ?? '';
  let segments = (match[3] ?? '').split('/').filter(Boolean);
  let namespace: string | undefined;
  const typesOf = (plural: string | undefined) =>
    RESOURCE_TYPES.find((t) => t.groupVersion === groupVersion && t.plural === plural);
  if (segments[0] === 'namespaces' && segments.length >= 3 && typesOf(segments[2])?.namespaced) {
    namespace = segments[1];
    segments = segments.slice(2);
  }
  const type = typesOf(segments[0]);
  if (!type) return undefined;
  return { type, namespace, name: segments[1], subresource: segments[2] };
}

const STATUS_REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'AlreadyExists',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

/** A `Status` failure reply as kube-apiserver sends it; `reason` defaults from the code. */
export function statusReply(
  code: number,
  message: string,
  reason = STATUS_REASONS[code] ?? 'Unknown',
): Reply {
  return {
    status: code,
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code },
  };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function valueAt(object: unknown, dottedPath: string): unknown {
  return dottedPath
    .split('.')
    .reduce<unknown>((value, key) => (isObject(value) ? value[key] : undefined), object);
}

/** Equality selectors only (`a=b,c==d,e!=f`), on labels or, for field selectors, on dotted paths. */
function matchesSelector(selector: string | undefined, lookup: (key: string) => unknown): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [, key = '', operator, expected] = /^([^!=]+)(!=|==|=)(.*)$/.exec(term.trim()) ?? [];
    const actual = lookup(key.trim());
    return operator === '!=' ? actual !== expected : actual === expected;
  });
}

export class FakeKubernetesApi {
  readonly requests: RecordedRequest[] = [];
  private readonly objects = new Map<string, JsonObject>();
  private readonly logs = new Map<string, string>();
  private readonly interceptors: {
    method: string;
    path: string | RegExp;
    handler: Interceptor;
    calls: number;
  }[] = [];
  private resourceVersion = 1;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeKubernetesApi> {
    // The server's handler needs the fake, which needs the server: bound once both exist.
    const bound: { fake?: FakeKubernetesApi } = {};
    const server = createServer((request, response) => {
      bound.fake?.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeKubernetesApi(server, `http://127.0.0.1:${port}`);
    bound.fake = fake;
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A connection to this server with a static bearer token (plain HTTP is allowed on loopback only). */
  connection(token = 'fake-token'): KubernetesConnection {
    return { server: this.url, token: async () => token };
  }

  /** Stores objects as if created; returns the stored copies. */
  seed(...objects: JsonObject[]): JsonObject[] {
    return objects.map((object) => {
      const metadata = isObject(object.metadata) ? object.metadata : {};
      const path = objectPath(
        String(object.apiVersion),
        String(object.kind),
        metadata.namespace as string,
        String(metadata.name),
      );
      return this.store(path, object);
    });
  }

  object(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): JsonObject | undefined {
    return this.objects.get(objectPath(apiVersion, kind, namespace, name));
  }

  /** Replaces part of a stored object (merge patch), e.g. to make a Deployment's status ready. */
  update(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    patch: JsonObject,
  ): void {
    const path = objectPath(apiVersion, kind, namespace, name);
    const current = this.objects.get(path);
    if (!current) throw new Error(`no ${path} to update`);
    this.objects.set(path, mergePatch(current, patch) as JsonObject);
  }

  setLog(namespace: string, pod: string, container: string, text: string): void {
    this.logs.set(`${namespace}/${pod}/${container}`, text);
  }

  /** Scripts the answer to matching requests; the latest interceptor registered for a request wins. */
  intercept(method: string, path: string | RegExp, handler: Interceptor): void {
    this.interceptors.unshift({ method, path, handler, calls: 0 });
  }

  /** Convenience: every matching request gets this `Status` failure. */
  fail(method: string, path: string | RegExp, code: number, message: string, reason?: string): void {
    this.intercept(method, path, () => statusReply(code, message, reason));
  }

  requestsFor(method: string, path: string | RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && FakeKubernetesApi.pathMatches(path, r.path));
  }

  private static pathMatches(pattern: string | RegExp, path: string): boolean {
    return typeof pattern === 'string' ? pattern === path : pattern.test(path);
  }

  private store(path: string, object: JsonObject): JsonObject {
    const metadata = isObject(object.metadata) ? object.metadata : {};
    const stored = {
      ...object,
      metadata: {
        uid: randomUUID(),
        generation: 1,
        creationTimestamp: '2026-01-01T00:00:00Z',
        ...metadata,
        resourceVersion: String(this.resourceVersion++),
      },
    };
    this.objects.set(path, stored);
    return stored;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', this.url);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: request.headers['content-type'],
      authorization: request.headers.authorization,
      body,
    };
    this.requests.push(recorded);

    let reply: Reply | undefined;
    for (const interceptor of this.interceptors) {
      if (
        interceptor.method !== recorded.method ||
        !FakeKubernetesApi.pathMatches(interceptor.path, recorded.path)
      ) {
        continue;
      }
      interceptor.calls += 1;
      reply = await interceptor.handler(recorded, interceptor.calls);
      break;
    }
    reply ??= this.answer(recorded);
    const contentType = reply.contentType ?? 'application/json';
    const payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
    response.writeHead(reply.status, { 'content-type': contentType }).end(payload);
  }

  private answer(request: RecordedRequest): Reply {
    if (request.path === '/version') {
      return {
        status: 200,
        body: { major: '1', minor: '31', gitVersion: 'v1.31.0-eks-fake', platform: 'linux/amd64' },
      };
    }
    const discovery = /^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))$/.exec(request.path);
    if (discovery && request.method === 'GET') return this.discovery(discovery[1] ?? discovery[2] ?? '');
    const parsed = parsePath(request.path);
    if (!parsed)
      return statusReply(404, `the server could not find the requested resource (${request.path})`);
    const { type, namespace, name, subresource } = parsed;
    if (name === undefined) {
      if (request.method === 'GET') return this.list(type, namespace, request.query);
      if (request.method === 'POST') return this.create(type, namespace, request.body);
      return statusReply(405, `${request.method} not allowed on a collection`, 'MethodNotAllowed');
    }
    const path = objectPath(type.groupVersion, type.kind, namespace, name);
    if (subresource === 'log') return this.podLog(namespace, name, request.query);
    if (subresource === 'scale') return this.scale(request, path);
    const current = this.objects.get(path);
    const notFound = () => statusReply(404, `${type.plural} "${name}" not found`);
    switch (request.method) {
      case 'GET':
        return current ? { status: 200, body: current } : notFound();
      case 'DELETE': {
        if (!current) return notFound();
        const refused = this.failedPrecondition(type, name, current, request.body);
        if (refused) return refused;
        this.objects.delete(path);
        return {
          status: 200,
          body: { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name } },
        };
      }
      case 'PATCH':
        return this.patch(request, path, type, namespace, name, current);
      default:
        return statusReply(405, `${request.method} not supported by the fake`, 'MethodNotAllowed');
    }
  }

  /** DeleteOptions `preconditions` as kube-apiserver checks them: a mismatch is a 409 Conflict. */
  private failedPrecondition(
    type: ResourceType,
    name: string,
    current: JsonObject,
    options: unknown,
  ): Reply | undefined {
    const preconditions = isObject(options) && isObject(options.preconditions) ? options.preconditions : {};
    for (const field of ['uid', 'resourceVersion'] as const) {
      const wanted = preconditions[field];
      const actual = valueAt(current, `metadata.${field}`);
      if (wanted !== undefined && wanted !== actual) {
        const label = field === 'uid' ? 'UID' : 'ResourceVersion';
        return statusReply(
          409,
          `Operation cannot be fulfilled on ${type.plural} "${name}": Precondition failed: ${label} in precondition: ${String(wanted)}, ${label} in object meta: ${String(actual)}`,
          'Conflict',
        );
      }
    }
    return undefined;
  }

  private discovery(groupVersion: string): Reply {
    const resources = RESOURCE_TYPES.filter((t) => t.groupVersion === groupVersion).map((t) => ({
      name: t.plural,
      singularName: t.kind.toLowerCase(),
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'],
    }));
    return { status: 200, body: { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources } };
  }

  private list(type: ResourceType, namespace: string | undefined, query: Record<string, string>): Reply {
    const prefix = `${objectPath(type.groupVersion, type.kind, namespace)}/`;
    const items = [...this.objects.entries()]
      .filter(([path]) => path.startsWith(prefix) && !path.slice(prefix.length).includes('/'))
      .map(([, object]) => object)
      .filter((object) => {
        const labels =
          isObject(object.metadata) && isObject(object.metadata.labels) ? object.metadata.labels : {};
        return (
          matchesSelector(query.labelSelector, (key) => labels[key]) &&
          matchesSelector(query.fieldSelector, (key) => valueAt(object, key))
        );
      });
    const body = {
      apiVersion: type.groupVersion,
      kind: `${type.kind}List`,
      metadata: { resourceVersion: String(this.resourceVersion) },
      items,
    };
    return { status: 200, body };
  }

  private create(type: ResourceType, namespace: string | undefined, body: unknown): Reply {
    if (!isObject(body) || !isObject(body.metadata) || typeof body.metadata.name !== 'string') {
      return statusReply(422, `${type.kind} is invalid: metadata.name: Required value`);
    }
    const name = body.metadata.name;
    const path = objectPath(type.groupVersion, type.kind, namespace, name);
    if (this.objects.has(path)) return statusReply(409, `${type.plural} "${name}" already exists`);
    const object = {
      ...body,
      apiVersion: type.groupVersion,
      kind: type.kind,
      metadata: { ...body.metadata, namespace },
    };
    return { status: 201, body: this.store(path, object) };
  }

  /** Merge and apply patches only: any other patch type (JSON patch, strategic merge) is refused. */
  private patch(
    request: RecordedRequest,
    path: string,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    current: JsonObject | undefined,
  ): Reply {
    const contentType = request.contentType ?? '';
    const isApply = contentType.startsWith('application/apply-patch');
    if (!isApply && !contentType.startsWith('application/merge-patch+json')) {
      return statusReply(415, `the fake only supports merge and apply patches, not ${contentType}`);
    }
    if (!current && !isApply) return statusReply(404, `${type.plural} "${name}" not found`);
    if (isApply && !request.query.fieldManager) {
      return statusReply(400, 'PATCH requests with apply-patch must specify fieldManager');
    }
    const patched = mergePatch(current ?? {}, request.body) as JsonObject;
    const metadata = isObject(patched.metadata) ? patched.metadata : {};
    const generation = Number(metadata.generation ?? 0);
    const specChanged = JSON.stringify(current?.spec) !== JSON.stringify(patched.spec);
    const object = {
      ...patched,
      apiVersion: type.groupVersion,
      kind: type.kind,
      metadata: {
        ...metadata,
        namespace,
        name,
        generation: current && specChanged ? generation + 1 : generation || 1,
      },
    };
    return { status: current ? 200 : 201, body: this.store(path, object) };
  }

  private scale(request: RecordedRequest, path: string): Reply {
    const current = this.objects.get(path);
    if (!current) return statusReply(404, `${path} not found`);
    if (request.method === 'PATCH') {
      const replicas = valueAt(request.body, 'spec.replicas');
      const generation = Number(valueAt(current, 'metadata.generation') ?? 1) + 1;
      this.update(
        String(current.apiVersion),
        String(current.kind),
        valueAt(current, 'metadata.namespace') as string,
        String(valueAt(current, 'metadata.name')),
        {
          spec: { replicas },
          metadata: { generation },
        },
      );
    }
    const object = this.objects.get(path) ?? current;
    return {
      status: 200,
      body: {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: {
          name: valueAt(object, 'metadata.name'),
          namespace: valueAt(object, 'metadata.namespace'),
        },
        spec: { replicas: valueAt(object, 'spec.replicas') },
        status: { replicas: valueAt(object, 'status.replicas') ?? 0 },
      },
    };
  }

  private podLog(namespace: string | undefined, pod: string, query: Record<string, string>): Reply {
    if (!this.objects.has(objectPath('v1', 'Pod', namespace, pod)))
      return statusReply(404, `pods "${pod}" not found`);
    const text = this.logs.get(`${namespace}/${pod}/${query.container}`) ?? '';
    const tail = Number(query.tailLines ?? Number.POSITIVE_INFINITY);
    const lines = text.split('\n').filter((line, index, all) => line !== '' || index < all.length - 1);
    const selected = Number.isFinite(tail) ? lines.slice(-tail) : lines;
    return { status: 200, contentType: 'text/plain', body: selected.map((line) => `${line}\n`).join('') };
  }
}
