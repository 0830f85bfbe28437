import { createHash } from 'node:crypto';

/**
 * Pseudo-randomness derived from a seed and the names of what varies (a pod, a minute, a
 * failover), never from call order: the same world answers the same question the same way, in
 * whatever order forked workflow branches happen to ask it.
 */

type Part = string | number;

function digest(seed: string, parts: readonly Part[]): Buffer {
  return createHash('sha256')
    .update([seed, ...parts].join('\u0000'))
    .digest();
}

/** A number in [0, 1). */
export function unitInterval(seed: string, ...parts: Part[]): number {
  return digest(seed, parts).readUInt32BE(0) / 2 ** 32;
}

/** A number in [min, max). */
export function between(min: number, max: number, seed: string, ...parts: Part[]): number {
  return min + (max - min) * unitInterval(seed, ...parts);
}

/** A number in [-amplitude, amplitude): noise around a metric's level. */
export function wobble(amplitude: number, seed: string, ...parts: Part[]): number {
  return between(-amplitude, amplitude, seed, ...parts);
}

/** A UUID-shaped id (version 4 layout), as SNS message ids and Kubernetes uids look. */
export function uuid(seed: string, ...parts: Part[]): string {
  const hex = digest(seed, parts).toString('hex');
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `4${hex.slice(13, 16)}`,
    `${variant}${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join('-');
}

/** The alphabet Kubernetes uses for generated name suffixes and pod-template hashes (no vowels). */
const KUBERNETES_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function kubernetesSuffix(length: number, seed: string, ...parts: Part[]): string {
  const bytes = digest(seed, parts);
  return Array.from({ length }, (_, index) =>
    KUBERNETES_ALPHABET.charAt((bytes[index] ?? 0) % KUBERNETES_ALPHABET.length),
  ).join('');
}

export function hexId(length: number, seed: string, ...parts: Part[]): string {
  return digest(seed, parts).toString('hex').slice(0, length);
}
