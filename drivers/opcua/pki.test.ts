import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPkiDir } from './pki.js';

describe('defaultPkiDir', () => {
  it('uses systemd StateDirectory (first entry) when set, else the temp dir, never $HOME', () => {
    expect(defaultPkiDir({ STATE_DIRECTORY: '/var/lib/edge-gateway:/var/lib/other' })).toBe('/var/lib/edge-gateway/opcua-pki');
    const fallback = defaultPkiDir({ HOME: os.homedir() });
    expect(fallback).toBe(path.join(os.tmpdir(), 'edge-gateway', 'opcua-pki'));
    expect(fallback.startsWith(os.homedir() + path.sep)).toBe(false);
  });
});
