import {
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type RequestOptions,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIPv4 } from 'node:net';
import {
  KubernetesApiError,
  KubernetesConflictError,
  KubernetesForbiddenError,
  KubernetesInvalidError,
  KubernetesNotFoundError,
  KubernetesTimeoutError,
  KubernetesUnauthorizedError,
  KubernetesUnavailableError,
} from './errors';

/**
 * JSON over HTTPS to one Kubernetes API server. AOR's calls are a few dozen fixed REST paths, so this replaces
 * @kubernetes/client-node at run time: its generated API layer cannot be tree-shaken and made each Lambda
 * bundle megabytes larger. client-node's model types are still used, type-only, for the JSON.
 */

/** Everything needed to talk to one cluster's API server. */
export interface KubernetesConnection {
  /** Base URL of the API server, e.g. EKS's `https://<id>.gr7.us-gov-west-1.eks.amazonaws.com`. */
  server: string;
  /** PEM of the cluster's certificate authority: the only CA an https server's certificate may chain to. */
  ca?: string;
  /** Asked before every request, so one connection kept through a long wait never sends an expired token. */
  token: () => Promise<string>;
}

export interface KubernetesRequest {
  /** What AOR was doing (`restart Deployment ns/name`): every error message starts with it. */
  operation?: string;
  /** Undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON, whatever `contentType` says: JSON is also valid YAML for apply patches. */
  body?: unknown;
  contentType?: string;
  accept?: string;
}

export interface KubernetesTransportOptions {
  /** Limit for one request, connecting through reading the whole body. */
  requestTimeoutMs?: number;
}

/** The node:http(s) request options fixed by the API server's URL and CA. */
export interface ServerRequestOptions {
  protocol: 'https:' | 'http:';
  hostname: string;
  port: number | undefined;
  /** Path prefix of a server URL such as `https://proxy/k8s/clusters/x`; empty for EKS. */
  basePath: string;
  /** Replaces the default trust store for this server's requests: the cluster CA is pinned. */
  ca?: string;
  rejectUnauthorized?: true;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** An error page from a proxy or load balancer can be long HTML; a Status message is kept whole. */
const MAX_NON_STATUS_ERROR_TEXT = 500;

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '::1' || (isIPv4(hostname) && hostname.startsWith('127.'));
}

/**
 * Refuses what would leak a bearer token or accept any certificate: https must come with the cluster CA, and
 * plain http is only for a test server on this machine.
 */
export function serverRequestOptions(server: string, ca: string | undefined): ServerRequestOptions {
  const url = new URL(server);
  // WHATWG URL keeps the brackets of an IPv6 literal; node:http wants the bare address.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? undefined : Number(url.port);
  const basePath = url.pathname.replace(/\/+$/, '');
  if (url.protocol === 'https:') {
    if (!ca) throw new Error(`No cluster CA for ${server}: AOR pins the CA of every Kubernetes API server`);
    return { protocol: 'https:', hostname, port, basePath, ca, rejectUnauthorized: true };
  }
  if (url.protocol === 'http:' && isLoopback(hostname)) {
    return { protocol: 'http:', hostname, port, basePath };
  }
  throw new Error(
    `Refusing Kubernetes API server ${server}: only https, or plain http on loopback for tests`,
  );
}

type ApiErrorClass = new (
  message: string,
  details: ConstructorParameters<typeof KubernetesApiError>[1],
) => KubernetesApiError;

function errorClassFor(statusCode: number): ApiErrorClass {
  if (statusCode === 401) return KubernetesUnauthorizedError;
  if (statusCode === 403) return KubernetesForbiddenError;
  if (statusCode === 404) return KubernetesNotFoundError;
  if (statusCode === 409) return KubernetesConflictError;
  if (statusCode === 422) return KubernetesInvalidError;
  if (statusCode === 429 || statusCode >= 500) return KubernetesUnavailableError;
  return KubernetesApiError;
}

/** `message` and `reason` of a `Status` body; nothing for a body that is not one. */
function parseStatus(text: string): { message?: string; reason?: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof body !== 'object' || body === null) return {};
  const { message, reason } = body as Record<string, unknown>;
  return {
    message: typeof message === 'string' && message !== '' ? message : undefined,
    reason: typeof reason === 'string' ? reason : undefined,
  };
}

function errorForResponse(operation: string, statusCode: number, text: string): KubernetesApiError {
  const status = parseStatus(text);
  const plainText = text.trim().slice(0, MAX_NON_STATUS_ERROR_TEXT);
  const detail = status.message ?? (plainText || `HTTP ${statusCode}`);
  const ErrorClass = errorClassFor(statusCode);
  return new ErrorClass(`${operation}: ${detail}`, { statusCode, reason: status.reason });
}

function queryString(query: KubernetesRequest['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) params.append(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

interface Answer {
  statusCode: number;
  text: string;
}

/** One HTTP exchange with the whole body read; rejects only when no complete answer arrived. */
async function exchange(
  options: RequestOptions & Pick<ServerRequestOptions, 'protocol'>,
  body: Buffer | undefined,
): Promise<Answer> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const outgoing = (options.protocol === 'https:' ? httpsRequest : httpRequest)(options, resolve);
    // Stays attached after the answer arrives: the timeout may still abort the request mid-body.
    outgoing.on('error', reject);
    outgoing.end(body);
  });
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return { statusCode: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function operationOf(method: string, path: string, request: KubernetesRequest): string {
  return request.operation ?? `${method} ${path}`;
}

export class KubernetesTransport {
  private readonly server: ServerRequestOptions;
  private readonly requestTimeoutMs: number;

  constructor(
    private readonly connection: KubernetesConnection,
    options: KubernetesTransportOptions = {},
  ) {
    this.server = serverRequestOptions(connection.server, connection.ca);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /** The parsed JSON answer; a failure status or no answer throws a named KubernetesApiError. */
  async request<T>(method: string, path: string, request: KubernetesRequest = {}): Promise<T> {
    const { statusCode, text } = await this.send(method, path, request, 'application/json');
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      const operation = operationOf(method, path, request);
      throw new KubernetesApiError(`${operation}: HTTP ${statusCode} answer is not JSON`, {
        statusCode,
        cause: error,
      });
    }
  }

  /** The answer as text, e.g. a pod log. */
  async requestText(method: string, path: string, request: KubernetesRequest = {}): Promise<string> {
    // JSON stays acceptable so that a failure still comes back as a Status.
    const { text } = await this.send(method, path, request, 'text/plain, application/json;q=0.9');
    return text;
  }

  private async send(
    method: string,
    path: string,
    request: KubernetesRequest,
    defaultAccept: string,
  ): Promise<Answer> {
    const operation = operationOf(method, path, request);
    const token = await this.connection.token();
    const body = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body), 'utf8');
    const headers: OutgoingHttpHeaders = {
      authorization: `Bearer ${token}`,
      accept: request.accept ?? defaultAccept,
    };
    if (body !== undefined) {
      headers['content-type'] = request.contentType ?? 'application/json';
      headers['content-length'] = body.length;
    }
    const { basePath, ...server } = this.server;
    const signal = AbortSignal.timeout(this.requestTimeoutMs);
    const options = {
      ...server,
      method,
      path: basePath + path + queryString(request.query),
      headers,
      signal,
    };
    const answer = await exchange(options, body).catch((error: unknown) => {
      const why = signal.aborted ? `no answer within ${this.requestTimeoutMs} ms` : messageOf(error);
      throw new KubernetesTimeoutError(`${operation}: no answer from the Kubernetes API: ${why}`, {
        cause: error,
      });
    });
    if (answer.statusCode < 200 || answer.statusCode >= 300) {
      throw errorForResponse(operation, answer.statusCode, answer.text);
    }
    return answer;
  }
}
