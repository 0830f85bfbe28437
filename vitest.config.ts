import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Synthesizing the CDK app takes seconds on two cores; workflow tests run whole state machines.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ['test/support/setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/integration/**'],
        },
      },
      {
        // Over a real AWS API: moto_server started here, or the endpoint AWS_ENDPOINT_URL names.
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/support/global-setup.ts'],
        },
      },
    ],
  },
});
