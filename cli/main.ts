import '../local/harness/quiet-lambda-runtime';
import { Command } from 'commander';
import { registerBenchCommands } from './commands/bench';
import { registerDrCommands } from './commands/dr';
import { registerDrillCommands } from './commands/drill';
import { registerIncidentCommands } from './commands/incident';
import { registerLedgerCommands } from './commands/ledger';

const program = new Command('aor')
  .description(
    'AOR: incident response, disaster recovery and the verified audit ledger, run and checked locally',
  )
  .showHelpAfterError();
registerLedgerCommands(program);
registerIncidentCommands(program);
registerDrillCommands(program);
registerDrCommands(program);
registerBenchCommands(program);

try {
  await program.parseAsync();
} catch (error) {
  const { name, message } = error as Error;
  console.error(`${name}: ${message}`);
  process.exitCode = 2;
}
