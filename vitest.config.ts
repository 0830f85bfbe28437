import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Synthesizing the CDK app takes seconds on two cores; workflow tests run whole state machines.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ['test/support/setup.ts'],
  },
});
