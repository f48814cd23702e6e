import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['gateway/**/*.test.ts', 'central/**/*.test.ts', 'drivers/**/*.test.ts', 'test-rigs/**/*.test.ts', 'config/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**', '**/*.torture.test.ts', '**/*.package.test.ts'],
    // Checks for mosquitto, socat, GStreamer… first: one screen saying what to install, not 61 failures.
    globalSetup: ['test-rigs/system/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real brokers, sockets and pseudo-terminals: keep parallelism within a 2-core box.
    maxWorkers: 2,
    // The second names, loudly, the tests a run as another user than root skipped (test-rigs/system/root.ts).
    reporters: ['default', './test-rigs/system/root-report.ts'],
  },
});
