// The embedded PGlite store: tables on first open, data kept across opens, one process at a time (lock file),
// and the PostgreSQL path never loads PGlite.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPgpipeError } from '../../src/errors.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createEmbeddedDb } from '../../src/store/embedded-db.js';
import { embeddedDataDir, openDb } from '../../src/store/open-db.js';
import { assertRollsBackOnThrow } from './db-contract.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

describe('embedded store', () => {
  let dir: string;
  let dataDir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pgpipe-embedded-'));
    dataDir = join(dir, 'nested', 'db');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("creates the tutorial's tables on first open and keeps rows across opens", async () => {
    const config = loadConfig({ flags: { dataDir }, env: {} });
    const first = await openDb(config);
    assert.equal(first.kind, 'embedded');
    await first.query("INSERT INTO users (email, pgpkey, password, maildir) VALUES ('a@example.org', 'k', 'p', 'm')");
    await first.close();
    const second = await openDb(config);
    try {
      const { rows } = await second.query<{ email: string; created: unknown }>('SELECT email, created FROM users');
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.email, 'a@example.org');
      assert.ok(rows[0]?.created instanceof Date, 'created DEFAULT NOW() as in the tutorial');
      const columns = await second.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'aliases' ORDER BY ordinal_position",
      );
      assert.deepEqual(
        columns.rows.map((r) => r.column_name),
        ['alias', 'email'],
      );
    } finally {
      await second.close();
    }
  });

  it('rolls a transaction back when its function throws', async () => {
    const db = await createEmbeddedDb(dataDir, 1000);
    try {
      await assertRollsBackOnThrow(db);
    } finally {
      await db.close();
    }
  });

  it('lets only one opener at a time use a data dir; the next one waits, then times out', async () => {
    const holder = await createEmbeddedDb(dataDir, 1000);
    try {
      assert.ok(existsSync(`${dataDir}.lock`));
      const error = await createEmbeddedDb(dataDir, 200).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(isPgpipeError(error));
      assert.equal(error.code, 'db.unavailable');
      assert.equal(error.temporary, true);
      assert.match(error.message, /busy: locked by pid \d+/);
    } finally {
      await holder.close();
    }
    assert.ok(!existsSync(`${dataDir}.lock`), 'close releases the lock');
  });

  it('waits for a holder that closes within the timeout', async () => {
    const holder = await createEmbeddedDb(dataDir, 1000);
    const waiting = createEmbeddedDb(dataDir, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    await holder.close();
    const next = await waiting;
    assert.equal((await next.query<{ n: number }>('SELECT 1 AS n')).rows[0]?.n, 1);
    await next.close();
  });

  it('takes over the lock of a process that died', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    writeFileSync(`${dataDir}.lock`, `${dead.stdout.toString()}\n`);
    const db = await createEmbeddedDb(dataDir, 1000);
    assert.equal(readFileSync(`${dataDir}.lock`, 'utf8').trim(), String(process.pid));
    await db.close();
  });

  it('blocks a second process on the same data dir (no concurrent PGlite)', async () => {
    const holder = await createEmbeddedDb(dataDir, 1000);
    try {
      const child = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `import { createEmbeddedDb } from ${JSON.stringify(join(SRC, 'store/embedded-db.ts'))};
         createEmbeddedDb(${JSON.stringify(dataDir)}, 300).then(
           () => { console.log('opened'); process.exit(0); },
           (e) => { console.log(e.code + ' ' + e.message); process.exit(3); });`,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(child.status, 3, child.stderr);
      assert.match(child.stdout, new RegExp(`db.unavailable .*locked by pid ${process.pid}`));
    } finally {
      await holder.close();
    }
  });

  it('defaults the data dir to $XDG_DATA_HOME/pgpipe/db, else ~/.local/share/pgpipe/db', () => {
    assert.equal(embeddedDataDir({ dataDir: '/srv/x' }, {}), '/srv/x');
    assert.equal(embeddedDataDir({ dataDir: undefined }, { XDG_DATA_HOME: '/xdg' }), '/xdg/pgpipe/db');
    assert.match(embeddedDataDir({ dataDir: undefined }, {}), /\/\.local\/share\/pgpipe\/db$/);
  });
});

describe('lazy loading', () => {
  // Walks the static import graph from open-db.ts: PGlite (and pg) may only be reached through import().
  function staticImports(file: string, seen = new Set<string>()): Set<string> {
    if (seen.has(file)) return seen;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm)) {
      const spec = m[1] ?? '';
      if (spec.startsWith('.')) staticImports(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), seen);
      else seen.add(spec);
    }
    return seen;
  }

  it('open-db loads neither driver statically; pg-db never reaches PGlite', () => {
    const fromOpen = staticImports(join(SRC, 'store/open-db.ts'));
    assert.ok(!fromOpen.has('@electric-sql/pglite'));
    assert.ok(!fromOpen.has('pg'));
    const fromPg = staticImports(join(SRC, 'store/pg-db.ts'));
    assert.ok(fromPg.has('pg'), 'the walker sees bare imports');
    assert.ok(!fromPg.has('@electric-sql/pglite'));
    assert.ok(staticImports(join(SRC, 'store/embedded-db.ts')).has('@electric-sql/pglite'));
  });
});
