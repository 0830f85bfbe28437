export class MissingEnvironmentError extends Error {
  override name = 'MissingEnvironmentError';
}

/** A setting the stack gives the function; its absence is a deployment bug, named as such. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new MissingEnvironmentError(`environment variable ${name} is not set`);
  return value;
}
