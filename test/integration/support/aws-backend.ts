/**
 * What an integration test needs of the AWS endpoint the global setup found: whether there is one,
 * and client configuration for a region. Each test makes its own resources under fresh names, so
 * the test files share one endpoint without seeing each other's state.
 */
import { randomUUID } from 'node:crypto';
import { describe, inject, it } from 'vitest';

import type { AwsBackendInfo } from './backend-info';

declare module 'vitest' {
  export interface ProvidedContext {
    awsBackend: AwsBackendInfo;
  }
}

export const PRIMARY_REGION = 'us-gov-west-1';
export const DR_REGION = 'us-gov-east-1';

/** The endpoint of this run, or undefined when the suite skips. */
export function awsBackend(): Exclude<AwsBackendInfo, { kind: 'none' }> | undefined {
  const backend = inject('awsBackend');
  return backend.kind === 'none' ? undefined : backend;
}

/** SDK v3 client configuration for the endpoint, in a GovCloud region, with the emulator's dummy credentials. */
export function clientConfig(region: string = PRIMARY_REGION) {
  const backend = awsBackend();
  if (!backend) throw new Error('no AWS endpoint: the suite should have skipped');
  return {
    endpoint: backend.endpoint,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // Buckets by path: an emulator on localhost has no per-bucket host names.
    forcePathStyle: true,
    // The emulator is local and does not throttle: a failing call fails the test at once.
    maxAttempts: 1,
  };
}

/** A name no other test uses: resources are made per test, never reset. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A describe block that runs over the wire, or is skipped (the global setup said why). */
export const describeOverTheWire: typeof describe = describe.skipIf(
  awsBackend() === undefined,
) as typeof describe;

/**
 * A test of a call moto does not serve (or serves wrongly): skipped on moto, listed with the call
 * and the reason in its name, and run on any other endpoint (LocalStack, say). Never left out silently.
 */
export function itUnlessMoto(name: string, whyNotOnMoto: string, fn: () => Promise<void>): void {
  const onMoto = awsBackend()?.kind === 'moto';
  (onMoto ? it.skip : it)(onMoto ? `${name} [not on moto: ${whyNotOnMoto}]` : name, fn);
}
