import { describe, expect, it } from 'vitest';
import { looksLikeUcum, unitWarning, unitsIn } from './ucum.js';

describe('UCUM unit check', () => {
  it('reads common UCUM codes as fine', () => {
    for (const u of ['Cel', 'K', '%', 'kW.h', 'kW', 'm/s', 'km/h', 'm3/h', 'L/min', 'hPa', 'mbar', '{vehicles}', '/min', 'mm', 'dB', 'lx', '[ppm]', 'm2', 's-1', '1', 'kg/m3', 'mA', 'A']) {
      expect(unitWarning(u), u).toBeNull();
    }
  });

  it('warns on the usual free-text spellings and names the code', () => {
    expect(unitWarning('°C')).toMatch(/"Cel"/);
    expect(unitWarning('degC')).toMatch(/"Cel"/);
    expect(unitWarning('kWh')).toMatch(/"kW.h"/);
    expect(unitWarning('vehicles')).toMatch(/"\{vehicles\}"/);
    expect(unitWarning('rpm')).toMatch(/\/min/);
    expect(unitWarning('furlongs per fortnight')).toMatch(/does not read as a UCUM code/);
    expect(looksLikeUcum('Kelvin')).toBe(false);
  });

  it('finds every unit in a device config, with its path', () => {
    const cfg = { type: 'modbus-tcp', registers: [{ name: 'a', unit: '°C' }, { name: 'b' }, { name: 'c', unit: 'Cel' }] };
    expect(unitsIn(cfg)).toEqual([{ path: ['registers', 0, 'unit'], unit: '°C' }, { path: ['registers', 2, 'unit'], unit: 'Cel' }]);
  });
});

describe('check-config warns on non-UCUM units', () => {
  it('warns (does not refuse) with file, line and key', async () => {
    const { writeConfigDir } = await import('../../test-rigs/harness/config-dir.js');
    const { loadConfig } = await import('./load.js');
    const { rmSync } = await import('node:fs');
    const c = writeConfigDir({
      brokerUrls: ['mqtt://127.0.0.1:1883'],
      devices: { plc: { type: 'modbus-tcp', host: '127.0.0.1', port: 502, unitId: 1, registers: [{ name: 't', address: 0, type: 'int16', unit: '°C' }, { name: 'e', address: 1, type: 'uint16', unit: 'kW.h' }] } },
    });
    try {
      const cfg = loadConfig(c.dir);
      const w = cfg.warnings.filter((x) => x.message.includes('UCUM'));
      expect(w.map((x) => ({ file: x.file, path: x.path, line: x.line }))).toEqual([{ file: 'devices/plc.yaml', path: 'registers[0].unit', line: expect.any(Number) }]);
    } finally {
      rmSync(c.dir, { recursive: true, force: true });
    }
  });
});
