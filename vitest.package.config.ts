import { defineConfig } from 'vitest/config';

// `npm run test:package`: installs the built .deb onto this host for real (see
// test-rigs/package/deb.package.test.ts), so it is kept out of `npm test` and run by .ci/run after
// `npm run package`.
export default defineConfig({
  test: {
    include: ['test-rigs/package/*.package.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    // One file, two describes that share a broker; the host install must not run twice at once.
    maxWorkers: 1,
    reporters: ['default'],
  },
});
