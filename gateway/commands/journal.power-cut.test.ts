import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWithFuse } from '../../test-rigs/system/root.js';
import { eachPowerCutFs, runWriterUntilDone } from '../../test-rigs/power-cut-fs/writer-child.js';
import { CommandJournal } from './journal.js';

/**
 * The journal's promise across a real power cut (test-rigs/power-cut-fs discards everything not
 * fsynced): a command the child acted on is found after the cut, so the same id never acts twice.
 * The child records each command and only then "acts" (prints its id), the way the runner does.
 */
const BUILT = join(import.meta.dirname, '../../dist/gateway/commands/journal.js');

async function actUntilCut(path: string, commands: number): Promise<string[]> {
  const script = `
    const { CommandJournal } = await import(${JSON.stringify(BUILT)});
    const j = new CommandJournal({ path: ${JSON.stringify(path)}, keepMs: 6e5, maxRows: 1e6 });
    for (let i = 0; i < ${commands}; i++) {
      const id = 'cmd-' + i;
      j.record({ id, receivedMs: Date.now(), source: 'mqtt', device: 'gate', point: 'relay', action: 'pulse', request: '{}', expiresAt: Date.now() + 6e4, outcome: 'pending', reason: null, finishedMs: null, detail: null });
      console.log('acted ' + id);
      if (i % 2 === 0) j.finish(id, 'executed', null, Date.now());
    }
    console.log('done');
    setInterval(() => undefined, 1000);
  `;
  return (await runWriterUntilDone(script)).filter((l) => l.startsWith('acted ')).map((l) => l.slice(6));
}

describeWithFuse('command journal across a power cut', () => {
  const powerCutFs = eachPowerCutFs(BUILT);

  it('finds every command that was acted on, so none acts twice; unfinished ones become interrupted', async () => {
    const path = join(powerCutFs().mountpoint, 'commands.db');
    const acted = await actUntilCut(path, 40);
    expect(acted).toHaveLength(40);
    powerCutFs().cut();
    const j = new CommandJournal({ path, keepMs: 6e5, maxRows: 1e6 });
    try {
      const missing = acted.filter((id) => j.find(id) === undefined);
      expect(missing).toEqual([]);
      const interrupted = j.interruptPending(Date.now()).map((e) => e.id);
      // Odd ones were never finished: pending at the cut, so interrupted now, never retried.
      expect(interrupted).toEqual(acted.filter((_, i) => i % 2 === 1));
      expect(j.find('cmd-0')?.outcome).toBe('executed');
    } finally {
      j.close();
    }
  }, 60_000);
});
