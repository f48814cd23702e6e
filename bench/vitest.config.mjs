import { defineConfig } from 'vitest/config';
import root from '../vitest.config.ts';

/**
 * Runs bench/*.test.ts (the report formatter on fixed numbers) until the root vitest.config.ts
 * includes 'bench/**\/*.test.ts': `npx vitest run --config bench/vitest.config.mjs` from the
 * project root. Plain .mjs so that tsc does not compile it into dist/.
 */
export default defineConfig({ test: { ...root.test, include: ['bench/**/*.test.ts'] } });
