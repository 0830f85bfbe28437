import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  KubernetesApiError,
  KubernetesConflictError,
  KubernetesForbiddenError,
  KubernetesInvalidError,
  KubernetesNotFoundError,
  KubernetesTimeoutError,
  KubernetesUnauthorizedError,
  KubernetesUnavailableError,
} from '../../../lambdas/adapters/kubernetes/errors';
import type { FakeKubernetesApi } from '../../support/fake-kubernetes-api';
import { NAMESPACE, rolledOutDeployment, startCluster } from './fixtures';

const DEPLOYMENT = `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/api-gateway`;
const restart = { namespace: NAMESPACE, kind: 'Deployment', name: 'api-gateway' } as const;

let fake: FakeKubernetesApi | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('Kubernetes API errors become named errors by HTTP status', () => {
  it.each([
    { code: 401, type: KubernetesUnauthorizedError, retryable: false, reason: 'Unauthorized' },
    { code: 403, type: KubernetesForbiddenError, retryable: false, reason: 'Forbidden' },
    { code: 404, type: KubernetesNotFoundError, retryable: false, reason: 'NotFound' },
    { code: 409, type: KubernetesConflictError, retryable: false, reason: 'Conflict' },
    { code: 422, type: KubernetesInvalidError, retryable: false, reason: 'Invalid' },
    { code: 429, type: KubernetesUnavailableError, retryable: true, reason: 'TooManyRequests' },
    { code: 500, type: KubernetesUnavailableError, retryable: true, reason: 'InternalError' },
    { code: 503, type: KubernetesUnavailableError, retryable: true, reason: 'ServiceUnavailable' },
    { code: 400, type: KubernetesApiError, retryable: false, reason: 'BadRequest' },
  ])('$code → $type.name, keeping Status.message', async ({ code, type, retryable, reason }) => {
    const cluster = await startCluster();
    fake = cluster.fake;
    fake.seed(rolledOutDeployment('api-gateway'));
    fake.fail('PATCH', DEPLOYMENT, code, `the API server says ${code}`, reason);

    const error = await cluster.operations.restartWorkload(restart).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({
      name: type.name,
      statusCode: code,
      reason,
      retryable,
      message: `restart Deployment ${NAMESPACE}/api-gateway: the API server says ${code}`,
    });
  });

  it('maps errors of server-side apply the same way', async () => {
    const cluster = await startCluster();
    fake = cluster.fake;
    fake.fail(
      'PATCH',
      DEPLOYMENT,
      403,
      'deployments.apps "api-gateway" is forbidden: User "aor" cannot patch',
    );

    const error = await cluster.operations
      .applyManifests({ namespace: NAMESPACE, manifests: [rolledOutDeployment('api-gateway') as never] })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubernetesForbiddenError);
    expect((error as Error).message).toContain('is forbidden: User "aor" cannot patch');
  });
});

describe('no answer at all', () => {
  it('is KubernetesTimeoutError when the API server does not answer within requestTimeoutMs', async () => {
    const cluster = await startCluster({ requestTimeoutMs: 50 });
    fake = cluster.fake;
    fake.intercept('GET', DEPLOYMENT, async () => {
      await delay(500);
      return undefined;
    });

    const started = Date.now();
    const error = await cluster.operations.workloadStatus(restart).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KubernetesTimeoutError);
    expect(Date.now() - started).toBeLessThan(450);
  });
});
