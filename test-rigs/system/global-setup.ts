import { checkSystem, currentEnv, notRootNotice } from './requirements.js';

/** vitest globalSetup: stop before any test when the machine lacks what the tests drive for real. */
export default function checkSystemRequirements(): void {
  const env = currentEnv();
  const report = checkSystem(env);
  if (report === null) {
    const notice = notRootNotice(env);
    if (notice !== null) process.stderr.write(notice);
    return;
  }
  process.stderr.write(report);
  // Not a throw: vitest would bury the list under its own stack trace. Exit 1 is the failure.
  process.exit(1);
}
