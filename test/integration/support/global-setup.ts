/**
 * The AWS endpoint the integration suite runs against, found once for the whole run:
 *
 * - `AWS_ENDPOINT_URL` when it is set: LocalStack (`http://localhost:4566`) or any other emulator,
 *   or none of our business (a real account is never the target: the suite creates and deletes).
 * - otherwise a `moto_server` this setup starts on a free port, when one is installed, and stops
 *   at the end. Its version is checked: what the suite works around is moto 5.2.1's.
 * - otherwise none: the suite's files skip, and say why once.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';
import { type AwsBackendInfo, MOTO_VERSION } from './backend-info';

let moto: ChildProcess | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function installedMotoVersion(): string | undefined {
  try {
    execFileSync('moto_server', ['--help'], { stdio: 'ignore', timeout: 30_000 });
  } catch {
    return undefined;
  }
  try {
    return execFileSync('python3', ['-c', 'import importlib.metadata as m; print(m.version("moto"))'], {
      encoding: 'utf8',
      timeout: 30_000,
    }).trim();
  } catch {
    return 'unknown';
  }
}

async function waitForMoto(endpoint: string, process: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (process.exitCode !== null) throw new Error(`moto_server exited with ${process.exitCode}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`moto_server did not answer at ${endpoint} within 30 s`);
}

async function findBackend(): Promise<AwsBackendInfo> {
  const given = process.env.AWS_ENDPOINT_URL;
  if (given) return { kind: 'endpoint', endpoint: given.replace(/\/$/, '') };
  const version = installedMotoVersion();
  if (version === undefined) {
    return {
      kind: 'none',
      reason:
        'no AWS endpoint: AWS_ENDPOINT_URL is not set and moto_server is not installed (pip install "moto[server]==5.2.1", or run LocalStack)',
    };
  }
  if (version !== MOTO_VERSION) {
    return {
      kind: 'none',
      reason: `moto ${version} is installed; the suite's emulator workarounds are for moto ${MOTO_VERSION} (set AWS_ENDPOINT_URL to use another endpoint)`,
    };
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    env: { ...process.env, MOTO_PORT: String(port) },
  });
  await waitForMoto(endpoint, moto);
  return { kind: 'moto', endpoint, version };
}

export default async function setup(project: TestProject): Promise<() => void> {
  const backend = await findBackend();
  if (backend.kind === 'none') console.info(`integration suite skipped: ${backend.reason}`);
  else
    console.info(
      `integration suite: AWS APIs at ${backend.endpoint} (${backend.kind === 'moto' ? `moto ${backend.version}` : 'AWS_ENDPOINT_URL'})`,
    );
  project.provide('awsBackend', backend);
  return () => {
    moto?.kill();
  };
}
