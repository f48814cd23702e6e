import { defineConfig } from 'vitest/config';
import root from '../vitest.config.js';

/**
 * Runs bench/*.test.ts (the report formatter on fixed numbers) until the root vitest.config.ts
 * includes 'bench/**\/*.test.ts': `npx vitest run --config bench/vitest.config.ts` from the
 * project root.
 */
export default defineConfig({ test: { ...root.test, include: ['bench/**/*.test.ts'] } });
