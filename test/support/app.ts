import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type AorStacks, addAorStacks } from '../../lib/aor-app';
import { type AorConfig, parseAorConfig } from '../../lib/config';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The context of cdk.json: the example `aor` configuration and the feature flags `cdk synth` uses. */
function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context;
}

/** The `aor` context of cdk.json: the example configuration every infra test starts from. */
export function exampleContext(): Record<string, unknown> {
  return structuredClone(cdkJsonContext().aor as Record<string, unknown>);
}

export function exampleConfig(): AorConfig {
  return parseAorConfig(exampleContext());
}

export interface SynthOptions {
  /** Bundle the Lambda code with esbuild (slow); off, assets are placeholders. */
  readonly bundle?: boolean;
  /** Changes to make to the app before it is synthesized, e.g. to show the nag gate failing. */
  readonly mutate?: (stacks: AorStacks) => void;
}

export interface SynthesizedAor {
  readonly app: App;
  readonly stacks: AorStacks;
  readonly templates: Record<keyof AorStacks, Template>;
  readonly outdir: string;
}

/** Builds and synthesizes the whole AOR app as `cdk synth` would, cdk-nag included. */
export function synthAor(options: SynthOptions = {}): SynthesizedAor {
  const outdir = path.join(os.tmpdir(), `aor-synth-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const app = new App({
    outdir,
    context: { ...cdkJsonContext(), ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const stacks = addAorStacks(app, exampleConfig());
  options.mutate?.(stacks);
  const assembly = app.synth();
  const template = (stackName: string) =>
    Template.fromJSON(assembly.getStackByName(stackName).template as Record<string, unknown>);
  return {
    app,
    stacks,
    outdir,
    templates: {
      ledger: template(stacks.ledger.stackName),
      drLedger: template(stacks.drLedger.stackName),
      incidentResponse: template(stacks.incidentResponse.stackName),
      disasterRecovery: template(stacks.disasterRecovery.stackName),
    },
  };
}
