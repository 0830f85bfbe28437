import * as path from 'node:path';

/** Where the local drills keep their state (the local ledger, its key): `.aor/` in the working directory. */
export function stateDirectory(): string {
  return path.resolve(process.env.AOR_STATE_DIR ?? '.aor');
}
