import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { addAorStacks } from '../../lib/aor-app';
import { parseAorConfig } from '../../lib/config';
import { AorFunction } from '../../lib/constructs/aor-function';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const BUNDLE_LIMIT_BYTES = 500 * 1024;

export interface BundleSize {
  readonly stack: string;
  readonly function: string;
  readonly bytes: number;
}

/**
 * Synthesizes the app with its real esbuild bundling (as `cdk synth` and `cdk deploy` do) and
 * measures each Lambda function's minified bundle (`index.mjs`, source map excluded).
 */
export function measureBundles(): {
  bundles: BundleSize[];
  largest: BundleSize;
  limitBytes: number;
  met: boolean;
} {
  const context = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context;
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'aor-bundles-'));
  try {
    const app = new App({ outdir, context });
    addAorStacks(app, parseAorConfig(context.aor));
    const assembly = app.synth();
    const bundles = app.node.findAll().flatMap((construct): BundleSize[] => {
      if (!(construct instanceof AorFunction)) return [];
      const stack = Stack.of(construct);
      const logicalId = stack.getLogicalId(construct.function.node.defaultChild as CfnResource);
      const template = assembly.getStackByName(stack.stackName).template as {
        Resources: Record<string, { Properties: { Code: { S3Key: string } } }>;
      };
      const key = template.Resources[logicalId]?.Properties.Code.S3Key.replace(/\.zip$/, '');
      return [
        {
          stack: stack.stackName,
          function: construct.node.path,
          bytes: statSync(path.join(outdir, `asset.${key}`, 'index.mjs')).size,
        },
      ];
    });
    bundles.sort((a, b) => b.bytes - a.bytes);
    const largest = bundles[0];
    if (!largest) throw new Error('the app has no Lambda functions');
    return { bundles, largest, limitBytes: BUNDLE_LIMIT_BYTES, met: largest.bytes <= BUNDLE_LIMIT_BYTES };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
