import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  KubernetesApiError,
  KubernetesTimeoutError,
  KubernetesUnauthorizedError,
  KubernetesUnavailableError,
} from '../../../lambdas/adapters/kubernetes/errors';
import {
  KubernetesTransport,
  serverRequestOptions,
} from '../../../lambdas/adapters/kubernetes/kubernetes-transport';
import { FakeKubernetesApi, statusReply } from '../../support/fake-kubernetes-api';

const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIC…\n-----END CERTIFICATE-----\n';

let fake: FakeKubernetesApi | undefined;
let rawServer: Server | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
  rawServer?.closeAllConnections();
  await new Promise<void>((resolve) => (rawServer ? rawServer.close(() => resolve()) : resolve()));
  rawServer = undefined;
});

async function startFake(options: { requestTimeoutMs?: number } = {}) {
  fake = await FakeKubernetesApi.start();
  return { fake, transport: new KubernetesTransport(fake.connection(), options) };
}

/** A server that answers however the test likes, down to stalling in the middle of a body. */
async function startRawServer(handler: (request: IncomingMessage, response: ServerResponse) => void) {
  rawServer = createServer(handler);
  const server = rawServer;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('KubernetesTransport requests', () => {
  it('sends method, path, query, bearer token, content type and JSON body, and parses the JSON answer', async () => {
    const { fake, transport } = await startFake();
    fake.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'api-0', namespace: 'ns' } });

    const patched = await transport.request<{ metadata: { labels: Record<string, string> } }>(
      'PATCH',
      '/api/v1/namespaces/ns/pods/api-0',
      {
        query: { fieldManager: 'aor', dryRun: undefined },
        body: { metadata: { labels: { quarantine: 'yes' } } },
        contentType: 'application/merge-patch+json',
      },
    );

    expect(patched.metadata.labels).toEqual({ quarantine: 'yes' });
    expect(fake.requests).toEqual([
      {
        method: 'PATCH',
        path: '/api/v1/namespaces/ns/pods/api-0',
        query: { fieldManager: 'aor' },
        contentType: 'application/merge-patch+json',
        authorization: 'Bearer fake-token',
        body: { metadata: { labels: { quarantine: 'yes' } } },
      },
    ]);
  });

  it('encodes selectors in the query string', async () => {
    const { fake, transport } = await startFake();

    await transport.request('GET', '/api/v1/namespaces/ns/events', {
      query: { fieldSelector: 'involvedObject.kind=Pod,involvedObject.name=a b&c', limit: 5 },
    });

    expect(fake.requests[0]?.query).toEqual({
      fieldSelector: 'involvedObject.kind=Pod,involvedObject.name=a b&c',
      limit: '5',
    });
  });

  it('asks the token provider before every request, so a refreshed token is used at once', async () => {
    fake = await FakeKubernetesApi.start();
    const tokens = ['first-token', 'second-token'];
    const token = vi.fn(async () => tokens.shift() ?? 'spent');
    const transport = new KubernetesTransport({ server: fake.url, token });

    await transport.request('GET', '/version');
    await transport.request('GET', '/version');

    expect(fake.requests.map((r) => r.authorization)).toEqual(['Bearer first-token', 'Bearer second-token']);
  });

  it('reads a text answer, accepting JSON as well so that a failure still comes as a Status', async () => {
    let accept: string | undefined;
    const server = await startRawServer((request, response) => {
      accept = request.headers.accept;
      response.writeHead(200, { 'content-type': 'text/plain' }).end('line 1\nline 2\n');
    });
    const transport = new KubernetesTransport({ server, token: async () => 't' });

    const log = await transport.requestText('GET', '/api/v1/namespaces/ns/pods/p/log');

    expect(log).toBe('line 1\nline 2\n');
    expect(accept).toBe('text/plain, application/json;q=0.9');
  });

  it('keeps the path prefix of the server URL', async () => {
    let path: string | undefined;
    const server = await startRawServer((request, response) => {
      path = request.url;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    const transport = new KubernetesTransport({
      server: `${server}/k8s/clusters/c-1/`,
      token: async () => 't',
    });

    await transport.request('GET', '/version', { query: { timeout: '5s' } });

    expect(path).toBe('/k8s/clusters/c-1/version?timeout=5s');
  });
});

describe('KubernetesTransport failures', () => {
  it('keeps the message and reason of a 401 Status', async () => {
    const { fake, transport } = await startFake();
    fake.intercept('GET', '/version', () => statusReply(401, 'Unauthorized'));

    const error = await transport
      .request('GET', '/version', { operation: 'read the API server version' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubernetesUnauthorizedError);
    expect(error).toMatchObject({
      name: 'KubernetesUnauthorizedError',
      message: 'read the API server version: Unauthorized',
      statusCode: 401,
      reason: 'Unauthorized',
      retryable: false,
    });
  });

  it('uses the text of an error body that is not a Status, cut to 500 characters', async () => {
    const { fake, transport } = await startFake();
    const page = `<html><body>502 Bad Gateway${' '.repeat(20)}${'x'.repeat(1_000)}</body></html>`;
    fake.intercept('GET', '/version', () => ({ status: 502, contentType: 'text/html', body: page }));

    const error = await transport.request('GET', '/version').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubernetesUnavailableError);
    expect(error).toMatchObject({ statusCode: 502, reason: undefined, retryable: true });
    expect((error as Error).message).toBe(`GET /version: ${page.slice(0, 500)}`);
  });

  it('names the HTTP status when the error body is empty', async () => {
    const { fake, transport } = await startFake();
    fake.intercept('GET', '/version', () => ({ status: 503, contentType: 'text/plain', body: '' }));

    const error = await transport.request('GET', '/version').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubernetesUnavailableError);
    expect((error as Error).message).toBe('GET /version: HTTP 503');
  });

  it('refuses a success answer that is not JSON with a non-retryable KubernetesApiError', async () => {
    const { fake, transport } = await startFake();
    fake.intercept('GET', '/version', () => ({ status: 200, contentType: 'text/html', body: '<html>' }));

    const error = await transport.request('GET', '/version').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubernetesApiError);
    expect(error).toMatchObject({
      name: 'KubernetesApiError',
      message: 'GET /version: HTTP 200 answer is not JSON',
      statusCode: 200,
      retryable: false,
    });
  });

  it('is KubernetesTimeoutError when the connection is refused', async () => {
    const closed = await FakeKubernetesApi.start();
    const transport = new KubernetesTransport(closed.connection());
    await closed.close();

    const error = await transport.request('GET', '/version').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubernetesTimeoutError);
    expect(error).toMatchObject({ name: 'KubernetesTimeoutError', retryable: true, statusCode: undefined });
    expect((error as Error).message).toMatch(
      /^GET \/version: no answer from the Kubernetes API: .*ECONNREFUSED/,
    );
  });

  it('is KubernetesTimeoutError when no answer comes within requestTimeoutMs', async () => {
    const server = await startRawServer(() => {
      // Never answers.
    });
    const transport = new KubernetesTransport({ server, token: async () => 't' }, { requestTimeoutMs: 50 });

    const started = Date.now();
    const error = await transport.request('GET', '/version').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubernetesTimeoutError);
    expect((error as Error).message).toBe(
      'GET /version: no answer from the Kubernetes API: no answer within 50 ms',
    );
    expect(Date.now() - started).toBeLessThan(300);
  });

  it('is KubernetesTimeoutError when the body stops halfway', async () => {
    const server = await startRawServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"items": [');
    });
    const transport = new KubernetesTransport({ server, token: async () => 't' }, { requestTimeoutMs: 100 });

    const error = await transport.request('GET', '/api/v1/pods').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubernetesTimeoutError);
    expect((error as Error).message).toContain('no answer within 100 ms');
  });

  it('lets a token provider failure through unchanged and sends nothing', async () => {
    const { fake } = await startFake();
    const expired = new Error('The security token included in the request is expired');
    const transport = new KubernetesTransport({
      server: fake.url,
      token: async () => {
        throw expired;
      },
    });

    await expect(transport.request('GET', '/version')).rejects.toBe(expired);
    expect(fake.requests).toEqual([]);
  });
});

describe('serverRequestOptions', () => {
  it('pins the cluster CA for https and keeps certificate verification on', () => {
    expect(serverRequestOptions('https://0123ABCD.gr7.us-gov-west-1.eks.amazonaws.com', CA_PEM)).toEqual({
      protocol: 'https:',
      hostname: '0123ABCD.gr7.us-gov-west-1.eks.amazonaws.com'.toLowerCase(),
      port: undefined,
      basePath: '',
      ca: CA_PEM,
      rejectUnauthorized: true,
    });
  });

  it('refuses https without a CA to pin', () => {
    expect(() => serverRequestOptions('https://api.cluster.example:6443', undefined)).toThrow(
      'No cluster CA for https://api.cluster.example:6443',
    );
  });

  it.each(['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080'])(
    'allows plain http on loopback: %s',
    (server) => {
      const options = serverRequestOptions(server, undefined);

      expect(options).toMatchObject({ protocol: 'http:', port: 8080 });
      expect(options).not.toHaveProperty('ca');
      expect(['127.0.0.1', 'localhost', '::1']).toContain(options.hostname);
    },
  );

  it.each([
    'http://10.0.0.1:8080',
    'http://0123ABCD.gr7.us-gov-west-1.eks.amazonaws.com',
    'http://127.0.0.1.example.com',
    'ftp://127.0.0.1',
  ])('refuses %s', (server) => {
    expect(() => serverRequestOptions(server, CA_PEM)).toThrow('Refusing Kubernetes API server');
  });

  it('is enforced when a transport is made', () => {
    expect(() => new KubernetesTransport({ server: 'http://10.0.0.1', token: async () => 't' })).toThrow(
      'Refusing Kubernetes API server http://10.0.0.1',
    );
  });
});
