/** What the global setup tells the test files about the AWS endpoint (no test API here: it runs in both). */

/** The moto release the emulator workarounds were written against and checked on. */
export const MOTO_VERSION = '5.2.1';

export type AwsBackendInfo =
  | { readonly kind: 'moto'; readonly endpoint: string; readonly version: string }
  | { readonly kind: 'endpoint'; readonly endpoint: string }
  | { readonly kind: 'none'; readonly reason: string };
