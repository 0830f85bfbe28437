export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Standard base64 (RFC 4648 §4) in its one canonical spelling, or undefined.
 *
 * Node's decoder silently skips characters outside the alphabet and ignores non-zero padding bits, so two
 * different strings can decode to the same bytes. Signed and hashed artifacts must have exactly one spelling,
 * hence the round trip.
 */
export function decodeBase64Strict(text: string): Uint8Array | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? new Uint8Array(bytes) : undefined;
}
