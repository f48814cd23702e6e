import { defineConfig } from 'vitest/config';

/**
 * `npm run torture`: the long reliability scenarios (test-rigs/torture/*.torture.test.ts).
 * One file at a time: every scenario runs its own mosquitto, simulator and daemon, and the
 * kill timings mean little on a box already saturated by a second scenario.
 */
export default defineConfig({
  test: {
    include: ['test-rigs/torture/**/*.torture.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    fileParallelism: false,
    reporters: ['default'],
  },
});
