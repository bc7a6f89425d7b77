// The PostgreSQL adapter fails fast and temporarily (db.unavailable) when the server is absent, stops or stalls,
// and its errors never quote SQL values. Real throwaway cluster; no mocks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { isPgpipeError } from '../../src/errors.js';
import { createPgDb, withUser } from '../../src/store/pg-db.js';
import { resolveRecipients } from '../../src/store/resolve-recipients.js';
import { startPostgres } from '../helpers/pg-cluster.js';
import type { PgCluster } from '../helpers/pg-cluster.js';
import { assertRollsBackOnThrow } from './db-contract.js';

const SECRET = 'secret-recipient@example.org';

async function rejectsTemporary(promise: Promise<unknown>, code: string, reason?: RegExp): Promise<Error> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(isPgpipeError(error), `PgpipeError expected, got ${String(error)}`);
  assert.equal(error.code, code);
  assert.equal(error.temporary, true);
  if (reason) assert.match(error.message, reason);
  assert.ok(!error.message.includes(SECRET), 'no SQL values in the message');
  assert.equal(error.cause, undefined, 'no driver error (which may carry params) attached');
  return error;
}

describe('pg-db', () => {
  let cluster: PgCluster;
  before(async () => {
    cluster = await startPostgres();
    await cluster.psql('CREATE DATABASE empty_db');
  });
  after(async () => cluster.stop());

  it('queries with parameters', async () => {
    const db = await createPgDb(cluster.url, 5000);
    try {
      const { rows } = await db.query<{ v: string }>('SELECT $1::text AS v', ['it\'s "quoted"']);
      assert.deepEqual(rows, [{ v: 'it\'s "quoted"' }]);
      assert.equal(db.kind, 'postgres');
    } finally {
      await db.close();
    }
  });

  it('rolls a transaction back when its function throws', async () => {
    const db = await createPgDb(cluster.url, 5000);
    try {
      await assertRollsBackOnThrow(db);
    } finally {
      await db.close();
    }
  });

  it('fails fast with db.unavailable when the socket directory has no server', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pgpipe-nosock-'));
    try {
      await rejectsTemporary(
        createPgDb(`postgresql:///mailstore_db?host=${empty}`, 5000),
        'db.unavailable',
        /no server socket|connection refused/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('fails fast with db.unavailable when the TCP port is closed', async () => {
    await rejectsTemporary(
      createPgDb('postgresql://pgpipe@127.0.0.1:1/mailstore_db', 5000),
      'db.unavailable',
      /connection refused/,
    );
  });

  it('turns a server stopped mid-run into db.unavailable, then works again after restart', async () => {
    const db = await createPgDb(cluster.url, 5000);
    try {
      await db.query('SELECT 1');
      await cluster.stopServer();
      await rejectsTemporary(resolveRecipients(db, [SECRET], { delimiter: '+' }), 'db.unavailable');
      await rejectsTemporary(db.query('SELECT $1::text', [SECRET]), 'db.unavailable');
    } finally {
      await db.close();
      await cluster.startServer();
    }
    const again = await createPgDb(cluster.url, 5000);
    await again.query('SELECT 1');
    await again.close();
  });

  it('cancels a statement that exceeds the timeout', async () => {
    const db = await createPgDb(cluster.url, 200);
    try {
      const started = Date.now();
      await rejectsTemporary(
        db.query('SELECT pg_sleep(30), $1::text', [SECRET]),
        'db.unavailable',
        /statement timeout|query read timeout/,
      );
      assert.ok(Date.now() - started < 20_000, 'did not wait for pg_sleep(30)');
    } finally {
      await db.close();
    }
  });

  it('gives up on a server that stops answering (client-side timeout)', async () => {
    const db = await createPgDb(cluster.url, 300);
    const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = rows[0]?.pid ?? 0;
    assert.ok(pid > 0);
    process.kill(pid, 'SIGSTOP'); // the backend freezes: no statement_timeout can fire server-side
    try {
      await rejectsTemporary(db.query('SELECT $1::text', [SECRET]), 'db.unavailable', /query read timeout/);
    } finally {
      process.kill(pid, 'SIGCONT');
      await db.close();
    }
  });

  it('keeps server error text (which can quote values) out of the message', async () => {
    const db = await createPgDb(cluster.url, 5000);
    try {
      await rejectsTemporary(db.query('SELECT $1::int', [SECRET]), 'db.unavailable', /SQLSTATE 22P02/);
    } finally {
      await db.close();
    }
  });

  it('reports missing tutorial tables as db.schema', async () => {
    const url = cluster.url.replace('/mailstore_db?', '/empty_db?');
    const db = await createPgDb(url, 5000);
    try {
      await rejectsTemporary(resolveRecipients(db, [SECRET], { delimiter: '+' }), 'db.schema', /table missing/);
    } finally {
      await db.close();
    }
  });

  it('reports a missing database as db.unavailable', async () => {
    await rejectsTemporary(
      createPgDb(cluster.url.replace('/mailstore_db?', '/no_such_db?'), 5000),
      'db.unavailable',
      /database does not exist/,
    );
  });
});

describe('withUser', () => {
  it('names the OS user when the URL has none (Postfix pipe sets no USER)', () => {
    const saved = process.env.PGUSER;
    delete process.env.PGUSER;
    try {
      const url = new URL(withUser('postgresql:///mailstore_db?host=/var/run/postgresql'));
      assert.equal(url.searchParams.get('user'), userInfo().username);
      assert.equal(url.searchParams.get('host'), '/var/run/postgresql');
      assert.equal(url.pathname, '/mailstore_db');
    } finally {
      if (saved !== undefined) process.env.PGUSER = saved;
    }
  });

  it('leaves URLs that name a user alone', () => {
    for (const url of ['postgresql://bob@localhost/db', 'postgresql:///db?user=carol&host=/tmp']) {
      assert.equal(withUser(url), url);
    }
  });
});
