import { describe, it } from 'vitest';

/**
 * Tests that need root (mount a tmpfs, create system users, drop to other uids). As another user
 * they are skipped, never passed, and root-report.ts names every one of them at the end of the
 * run; the marker in their title is how it finds them.
 */
export const NEEDS_ROOT = '[needs root]';
export const isRoot = process.getuid?.() === 0;

/** `it` for a test that needs root. */
export function itAsRoot(title: string, fn: () => unknown, timeout?: number): void {
  it.runIf(isRoot)(`${title} ${NEEDS_ROOT}`, fn, timeout);
}

/** `describe` for a suite that needs root. */
export function describeAsRoot(title: string, fn: () => void): void {
  describe.runIf(isRoot)(`${title} ${NEEDS_ROOT}`, fn);
}
