import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { NEEDS_ROOT } from './root.js';

/**
 * vitest reporter: after the summary, names every test that was skipped because it needs root
 * (root.ts), so that a run as another user says loudly what it did not check. The run's exit code
 * is vitest's: those tests are skipped, not passed, and CI runs as root, where there are none.
 */
export default class NotRunWithoutRoot implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const notRun: string[] = [];
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        if (t.result().state === 'skipped' && t.fullName.includes(NEEDS_ROOT)) notRun.push(`${relative(process.cwd(), m.moduleId)} > ${t.fullName.replace(` ${NEEDS_ROOT}`, '')}`);
      }
    }
    if (notRun.length === 0) return;
    const bar = '!'.repeat(78);
    process.stderr.write(
      [
        '',
        bar,
        `NOT RUN: ${notRun.length} test${notRun.length === 1 ? '' : 's'} need root and were skipped (uid ${process.getuid?.()}), not passed:`,
        ...notRun.map((n) => `  - ${n}`),
        'They mount a tmpfs or a FUSE filesystem (/dev/fuse), create system users or switch uids. Run them as root (CI does): sudo npm test',
        bar,
        '',
      ].join('\n'),
    );
  }
}
