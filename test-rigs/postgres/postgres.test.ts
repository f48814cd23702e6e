import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresFixture } from './postgres.js';

let server: PostgresFixture;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.dispose();
});

describe('throw-away PostgreSQL rig', () => {
  it('answers on its port, creates databases, and its pid is the postmaster', async () => {
    const url = server.createDatabase('rig_check');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const r = await client.query<{ db: string; v: string }>('SELECT current_database() AS db, current_setting($1) AS v', ['server_version_num']);
    await client.end();
    expect(r.rows[0]?.db).toBe('rig_check');
    expect(Number(r.rows[0]?.v)).toBeGreaterThanOrEqual(150000);
    expect(process.kill(server.pid, 0)).toBe(true);
  });
});
