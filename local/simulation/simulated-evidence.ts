import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assertEvidenceKey, EvidenceAlreadyExistsError } from '../../lambdas/adapters/aws/s3-evidence-store';
import type { EvidenceStore, StoredEvidence } from '../../lambdas/core/operations/ports';
import type { OperationRunner } from './calls';
import { S3_PUT_MS } from './durations';

export interface EvidenceObject extends StoredEvidence {
  readonly key: string;
  readonly contentType: string;
  readonly body: Uint8Array;
  /** Epoch milliseconds, on the writer's clock. */
  readonly storedAt: number;
}

/**
 * Write-once evidence, kept in memory and, given a directory, also written under it (then the URI
 * is a `file://` URI, else `simulated://evidence/<key>`). Keys are checked as the S3 adapter checks them.
 */
export class SimulatedEvidenceStore implements EvidenceStore {
  constructor(
    private readonly objects: Map<string, EvidenceObject>,
    private readonly directory: string | undefined,
    private readonly run: OperationRunner,
  ) {}

  put(key: string, body: Uint8Array, contentType: string): Promise<StoredEvidence> {
    return this.run('put', [key, body, contentType], async (call) => {
      assertEvidenceKey(key);
      const sha256 = createHash('sha256').update(body).digest('hex');
      await call.spend(S3_PUT_MS);
      const path = this.directory === undefined ? undefined : join(this.directory, key);
      const uri = path === undefined ? `simulated://evidence/${key}` : pathToFileURL(path).href;
      if (this.objects.has(key)) throw new EvidenceAlreadyExistsError(`${uri} already exists`);
      if (path !== undefined) {
        await mkdir(dirname(path), { recursive: true });
        try {
          await writeFile(path, body, { flag: 'wx' });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
            throw new EvidenceAlreadyExistsError(`${uri} already exists`, { cause: error });
          }
          throw error;
        }
      }
      const stored = { uri, sha256, bytes: body.byteLength };
      this.objects.set(key, {
        ...stored,
        key,
        contentType,
        body: Uint8Array.from(body),
        storedAt: call.now(),
      });
      return stored;
    });
  }
}
