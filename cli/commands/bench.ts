import type { Command } from 'commander';
import { benchLedger } from '../../local/bench/ledger-bench';

export function registerBenchCommands(program: Command): void {
  const bench = program.command('bench').description('measure performance targets');
  registerBundleBench(bench);
  bench
    .command('ledger')
    .description('append, integrate, export and verify N entries; compare with the raw SHA-256 rate')
    .option('--entries <n>', 'entries to append', (v) => Number.parseInt(v, 10), 1_000_000)
    .option('--json', 'print the figures as JSON')
    .action(async (options: { entries: number; json?: boolean }) => {
      const result = await benchLedger(
        options.entries,
        options.json ? undefined : (line) => console.error(`… ${line}`),
      );
      if (options.json) {
        console.log(JSON.stringify(result));
        return;
      }
      const rate = (n: number) => `${n.toLocaleString('en-US')}/s`;
      console.log(`entries            ${result.entries.toLocaleString('en-US')}`);
      console.log(`append (core)      ${rate(result.appendPerSec)}`);
      console.log(
        `integrate          ${rate(result.integratePerSec)}  (target ≥ 100,000/s: ${pass(result.targets.integrate)}; ${result.signatures} signature(s))`,
      );
      console.log(`export             ${rate(result.exportPerSec)}`);
      console.log(
        `verify (offline)   ${rate(result.verifyPerSec)}  (target 2×verify ≥ sha256/3: ${pass(result.targets.verify)})`,
      );
      console.log(`raw SHA-256 (64 B) ${rate(result.sha256PerSec)}`);
      console.log(
        `inclusion proof    ${result.proofBytes} bytes (limit ${result.proofBytesLimit}: ${pass(result.targets.proofSize)})`,
      );
    });
}

export function registerBundleBench(bench: Command): void {
  bench
    .command('bundles')
    .description('bundle every Lambda function as cdk synth does and measure it against the 500 KB limit')
    .option('--json', 'print the figures as JSON')
    .action(async (options: { json?: boolean }) => {
      // Loaded on use: it synthesizes the CDK app with bundling.
      const { measureBundles } = await import('../../local/bench/bundle-bench');
      const result = measureBundles();
      if (options.json) {
        console.log(JSON.stringify(result));
        return;
      }
      for (const b of result.bundles)
        console.log(`${(b.bytes / 1024).toFixed(1).padStart(7)} KB  ${b.function}`);
      console.log(
        `largest ${(result.largest.bytes / 1024).toFixed(1)} KB (limit ${result.limitBytes / 1024} KB: ${pass(result.met)})`,
      );
      if (!result.met) process.exitCode = 1;
    });
}

function pass(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}
