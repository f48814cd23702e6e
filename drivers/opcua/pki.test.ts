import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPkiDir } from './pki.js';

describe('defaultPkiDir', () => {
  it('uses systemd StateDirectory (first entry) when set', () => {
    expect(defaultPkiDir({ STATE_DIRECTORY: '/var/lib/edge-gateway:/var/lib/other' }, '/srv/gw')).toBe('/var/lib/edge-gateway/opcua-pki');
  });

  it('else the gateway state directory, else the packaged one; never the temp dir or $HOME', () => {
    expect(defaultPkiDir({ HOME: os.homedir() }, '/srv/gw')).toBe('/srv/gw/opcua-pki');
    const fallback = defaultPkiDir({ HOME: os.homedir() });
    expect(fallback).toBe('/var/lib/edge-gateway/opcua-pki');
    for (const dir of [fallback, defaultPkiDir({}, '/srv/gw')]) {
      expect(dir.startsWith(os.tmpdir() + path.sep)).toBe(false);
      expect(dir.startsWith(os.homedir() + path.sep)).toBe(false);
    }
  });
});
