// PostgreSQL faults against the real CLI and a real server: down, refusing, missing tables, a statement that hangs
// on a lock (statement timeout), and the backend killed mid-query. Each must defer (75) and hand on nothing.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertOutcome, runFilterCli, worldForSuite, tokenMessage, type FaultWorld } from './support.js';

const PSQL = `${process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin'}/psql`;

/** Another session that takes ACCESS EXCLUSIVE on users and holds it (until terminated). */
async function lockUsers(world: FaultWorld): Promise<{ release(): Promise<void>; child: ChildProcess }> {
  const url = `${world.pg.url}&application_name=fault-locker`;
  const child = spawn(
    PSQL,
    ['-X', '-q', url, '-c', 'BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);'],
    { stdio: 'ignore' },
  );
  let granted = false;
  for (let i = 0; i < 200 && !granted; i += 1) {
    const count = await world.pg.psql(
      'SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) ' +
        "WHERE a.application_name = 'fault-locker' AND l.mode = 'AccessExclusiveLock' AND l.granted",
    );
    granted = count.trim() === '1';
    if (!granted) await sleep(50);
  }
  if (!granted) throw new Error('the locking session never got its lock');
  return {
    child,
    release: async () => {
      await world.pg.psql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fault-locker'",
      );
      if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
    },
  };
}

describe('PostgreSQL faults (documented outcome: 75, nothing handed on)', () => {
  const world = worldForSuite();

  test('refusing connections (TCP port with no listener) → 75', async () => {
    const m = tokenMessage();
    const r = await runFilterCli({ world, input: m.raw, dbUrl: 'postgresql://postgres@127.0.0.1:1/mailstore_db' });
    assertOutcome(r, 75, [m.subjectToken, m.bodyToken]);
    assert.equal(r.calls.length, 0, 'sendmail never started');
  });

  test('no server at the socket path → 75', async () => {
    const m = tokenMessage();
    const r = await runFilterCli({
      world,
      input: m.raw,
      dbUrl: 'postgresql:///mailstore_db?host=/nonexistent-pgpipe-socket-dir',
    });
    assertOutcome(r, 75, [m.subjectToken, m.bodyToken]);
  });

  test('database without the tutorial tables → 75', async () => {
    const m = tokenMessage();
    const r = await runFilterCli({ world, input: m.raw, dbUrl: world.pg.url.replace('/mailstore_db?', '/postgres?') });
    assertOutcome(r, 75, [m.subjectToken, m.bodyToken]);
  });

  test('statement hangs on a locked users table → statement timeout → 75 within the timeout', async () => {
    const lock = await lockUsers(world);
    try {
      const m = tokenMessage();
      const r = await runFilterCli({ world, input: m.raw, flags: ['--db-timeout', '1500'], deadlineMs: 20_000 });
      assertOutcome(r, 75, [m.subjectToken, m.bodyToken]);
      assert.ok(r.run.ms < 10_000, `gave up on the database timeout, not the deadline (${r.run.ms} ms)`);
    } finally {
      await lock.release();
    }
  });

  test('backend terminated mid-query (pg_terminate_backend) → 75', async () => {
    const lock = await lockUsers(world);
    try {
      const m = tokenMessage();
      let killed = 0;
      const killer = (async () => {
        // Wait until pgpipe's lookup is blocked on the lock, then kill that backend.
        for (let i = 0; i < 200 && killed === 0; i += 1) {
          const out = await world.pg.psql(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity ' +
              "WHERE wait_event_type = 'Lock' AND application_name <> 'fault-locker' AND query ILIKE '%users%'",
          );
          killed = out.split('\n').filter((l) => l.trim() === 't').length;
          if (killed === 0) await sleep(50);
        }
      })();
      const r = await runFilterCli({ world, input: m.raw, flags: ['--db-timeout', '15000'], deadlineMs: 25_000 });
      await killer;
      assert.ok(killed > 0, "pgpipe's backend was found waiting and terminated");
      assertOutcome(r, 75, [m.subjectToken, m.bodyToken]);
      assert.ok(r.run.ms < 12_000, `failed fast on the dropped connection (${r.run.ms} ms)`);
    } finally {
      await lock.release();
    }
  });

  test('server stopped → 75; started again → delivered encrypted', async () => {
    const m = tokenMessage();
    await world.pg.stopServer();
    try {
      const down = await runFilterCli({ world, input: m.raw });
      assertOutcome(down, 75, [m.subjectToken, m.bodyToken]);
    } finally {
      await world.pg.startServer();
    }
    const up = await runFilterCli({ world, input: m.raw });
    assertOutcome(up, 0, [m.subjectToken, m.bodyToken]);
    assert.equal(up.verdict.ok && up.verdict.outcome, 'exit0-encrypted');
  });
});
