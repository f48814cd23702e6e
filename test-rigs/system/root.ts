import { accessSync, constants } from 'node:fs';
import { describe, it } from 'vitest';

/**
 * Tests that need root (mount a tmpfs or, where /dev/fuse is root's only, a FUSE filesystem; create
 * system users; drop to other uids). As another user
 * they are skipped, never passed, and root-report.ts names every one of them at the end of the
 * run; the marker in their title is how it finds them.
 */
export const NEEDS_ROOT = '[needs root]';
export const isRoot = process.getuid?.() === 0;

/** Can this process mount power-cut-fs? Root can; another user only where /dev/fuse is open to it. */
export const canMountFuse =
  isRoot ||
  (() => {
    try {
      accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
      return true;
    } catch {
      return false;
    }
  })();

/** `it` for a test that needs root. */
export function itAsRoot(title: string, fn: () => unknown, timeout?: number): void {
  it.runIf(isRoot)(`${title} ${NEEDS_ROOT}`, fn, timeout);
}

/** `describe` for a suite that needs root. */
export function describeAsRoot(title: string, fn: () => void): void {
  describe.runIf(isRoot)(`${title} ${NEEDS_ROOT}`, fn);
}

/** `describe` for a suite that mounts power-cut-fs (FUSE): root, or a user /dev/fuse is open to. */
export function describeWithFuse(title: string, fn: () => void): void {
  describe.runIf(canMountFuse)(`${title} ${NEEDS_ROOT}`, fn);
}
