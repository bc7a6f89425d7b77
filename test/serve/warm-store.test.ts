// serve's warm key lookup (pool + memo of parsed keys) stays correct: a key rotated or removed through the real
// admin commands (bin/pgpipe key set/add/remove, user remove) is never used by a lookup that starts after the
// command returned, with the cache on; a PostgreSQL restart gives db.unavailable, then lookups work again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { isPgpipeError } from '../../src/errors.js';
import type { KeyState } from '../../src/filter/ports.js';
import { openWarmStore, type WarmStore } from '../../src/serve/warm-store.js';
import { makeKey } from '../helpers/keys.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { runCli } from '../helpers/run-cli.js';
import { seedStore } from '../helpers/seed.js';

const signal = new AbortController().signal;

/** The fingerprints a lookup would encrypt to, or the state's kind when there are none. */
function fingerprintsOf(state: KeyState | undefined): readonly string[] | string {
  if (state?.kind === 'keys') return state.fingerprints;
  return state?.kind ?? 'missing';
}

describe('warm store', () => {
  let cluster: PgCluster;
  let dir: string;
  let store: WarmStore;
  const lookup = async (address: string) => fingerprintsOf((await store.keys.lookup([address], signal)).get(address));
  const pgpipe = async (...args: string[]) => {
    const result = await runCli(args, { env: { PGPIPE_DATABASE_URL: cluster.url } });
    assert.equal(result.code, 0, result.stderr);
  };

  before(async () => {
    cluster = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'pgpipe-warm-'));
    const config = loadConfig({
      flags: { databaseUrl: cluster.url, serveKeyCacheMs: 60_000 },
      env: {},
      configPath: '/dev/null',
    });
    store = await openWarmStore(config);
  });
  after(async () => {
    await store.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to open without database_url: serve needs PostgreSQL', async () => {
    const config = loadConfig({ flags: {}, env: {}, configPath: '/dev/null' });
    const error = await openWarmStore(config).then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(isPgpipeError(error));
    assert.equal(error.code, 'config.invalid');
    assert.match(error.message, /PostgreSQL.*database_url/);
  });

  it('answers an unchanged key from the cache', async () => {
    const key = await makeKey({ kind: 'curve25519', email: 'steady@example.org' });
    await seedStore({ databaseUrl: cluster.url }, [{ email: 'steady@example.org', pgpkey: key.publicArmored }]);
    const before = store.cacheStats();
    assert.deepEqual(await lookup('steady@example.org'), [key.fingerprint]);
    assert.deepEqual(await lookup('steady@example.org'), [key.fingerprint]);
    assert.deepEqual(await lookup('Steady+tag@example.org'), [key.fingerprint], 'same row, same text: a hit');
    const stats = store.cacheStats();
    assert.equal(stats.misses - before.misses, 1);
    assert.equal(stats.hits - before.hits, 2);
  });

  it('uses a rotated key from the first lookup after `key set` returned, and never the old one again', async () => {
    const email = 'rotor@example.org';
    const [old, fresh] = await Promise.all([
      makeKey({ kind: 'curve25519', email }),
      makeKey({ kind: 'rsa2048', email }),
    ]);
    await seedStore({ databaseUrl: cluster.url }, [{ email, pgpkey: old.publicArmored }]);
    assert.deepEqual(await lookup(email), [old.fingerprint]);
    assert.deepEqual(await lookup(email), [old.fingerprint]); // now cached
    writeFileSync(join(dir, 'fresh.asc'), fresh.publicArmored);

    // Lookups run back to back all through the command; each notes when it started.
    const seen: { started: number; result: readonly string[] | string }[] = [];
    let returned = Infinity;
    let stop = false;
    const hammer = (async () => {
      while (!stop) {
        const started = performance.now();
        seen.push({ started, result: await lookup(email) });
      }
    })();
    await pgpipe('key', 'set', email, join(dir, 'fresh.asc'));
    returned = performance.now();
    assert.deepEqual(await lookup(email), [fresh.fingerprint], 'the very next lookup');
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop = true;
    await hammer;

    const afterwards = seen.filter((s) => s.started > returned);
    assert.ok(afterwards.length > 0, 'lookups ran after the command returned');
    for (const s of afterwards) assert.deepEqual(s.result, [fresh.fingerprint]);
    assert.ok(
      seen.some((s) => s.started < returned && s.result[0] === old.fingerprint),
      'the old key was in use (and cached) while the command ran',
    );
  });

  it('stops using a removed key at once (`key add`, `key remove`), and a removed user has no key', async () => {
    const email = 'shed@example.org';
    const [first, second] = await Promise.all([
      makeKey({ kind: 'curve25519', email, expiresInDays: 300 }),
      makeKey({ kind: 'curve25519', email, expiresInDays: 400 }),
    ]);
    await seedStore({ databaseUrl: cluster.url }, [{ email, pgpkey: first.publicArmored }]);
    assert.deepEqual(await lookup(email), [first.fingerprint]);
    writeFileSync(join(dir, 'second.asc'), second.publicArmored);
    await pgpipe('key', 'add', email, join(dir, 'second.asc'));
    assert.deepEqual(await lookup(email), [first.fingerprint, second.fingerprint]);
    await lookup(email); // cached: both
    await pgpipe('key', 'remove', email, first.fingerprint);
    assert.deepEqual(await lookup(email), [second.fingerprint]);
    await pgpipe('user', 'remove', email);
    assert.equal(await lookup(email), 'no-key');
  });

  it('follows an alias change at once (`alias add`), members judged each with its own key', async () => {
    const [a, b] = await Promise.all([
      makeKey({ kind: 'curve25519', email: 'a@example.org' }),
      makeKey({ kind: 'curve25519', email: 'b@example.org' }),
    ]);
    await seedStore({ databaseUrl: cluster.url }, [
      { email: 'a@example.org', pgpkey: a.publicArmored },
      { email: 'b@example.org', pgpkey: b.publicArmored },
    ]);
    await pgpipe('alias', 'add', 'team@example.org', 'a@example.org');
    assert.deepEqual(await lookup('team@example.org'), [a.fingerprint]);
    await pgpipe('alias', 'add', 'team@example.org', 'b@example.org');
    const state = (await store.keys.lookup(['team@example.org'], signal)).get('team@example.org');
    assert.equal(state?.kind, 'members');
    if (state?.kind !== 'members') return;
    assert.deepEqual(
      state.members.map((m) => [m.address, fingerprintsOf(m.state)]),
      [
        ['a@example.org', [a.fingerprint]],
        ['b@example.org', [b.fingerprint]],
      ],
    );
  });

  it('defers (db.unavailable) while PostgreSQL is down and looks keys up again once it is back', async () => {
    const key = await makeKey({ kind: 'curve25519', email: 'steady@example.org' });
    assert.deepEqual(await lookup('steady@example.org'), [key.fingerprint]);
    await cluster.stopServer();
    try {
      const started = Date.now();
      const error = await lookup('steady@example.org').then(
        () => assert.fail('a lookup cannot succeed with the server down, cache or not'),
        (e: unknown) => e,
      );
      assert.ok(isPgpipeError(error), String(error));
      assert.equal(error.code, 'db.unavailable');
      assert.ok(Date.now() - started < 2000, 'failed fast');
    } finally {
      await cluster.startServer();
    }
    assert.deepEqual(await lookup('steady@example.org'), [key.fingerprint]);
  });

  it('opens while PostgreSQL is down (no crash, lookups defer) and serves once it is up', async () => {
    const key = await makeKey({ kind: 'curve25519', email: 'steady@example.org' });
    await cluster.stopServer();
    let early: WarmStore | null = null;
    try {
      const config = loadConfig({ flags: { databaseUrl: cluster.url }, env: {}, configPath: '/dev/null' });
      early = await openWarmStore(config);
      const down = await early.keys.lookup(['steady@example.org'], signal).then(
        () => assert.fail('no lookup without the server'),
        (e: unknown) => e,
      );
      assert.ok(isPgpipeError(down) && down.code === 'db.unavailable', String(down));
      await cluster.startServer();
      const state = (await early.keys.lookup(['steady@example.org'], signal)).get('steady@example.org');
      assert.deepEqual(fingerprintsOf(state), [key.fingerprint]);
    } finally {
      await cluster.startServer().catch(() => undefined);
      await early?.close();
    }
  });
});
