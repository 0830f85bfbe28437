#!/usr/bin/env node
// The `aor` command. It runs the TypeScript sources through tsx, so what the CLI runs is exactly
// what the tests and the Lambda bundles are built from, with no separate build step.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
