import type { Command } from 'commander';
import { benchLedger } from '../../local/bench/ledger-bench';

export function registerBenchCommands(program: Command): void {
  const bench = program.command('bench').description('measure performance targets');
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

function pass(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}
