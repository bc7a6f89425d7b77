// `pgpipe doctor` through the built CLI against real components: PostgreSQL, a real spamd, /usr/sbin/sendmail,
// and the filter's Unix user probed with runuser (root only). Every failure line names the problem and a fix.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { runCli } from '../helpers/run-cli.js';
import { doctorLines } from './doctor-lines.js';

const isRoot = process.getuid?.() === 0;
const FILTER_USER = 'nobody'; // exists on Debian; stands in for the pgpipe user master.cf names

async function startSpamd(port: number): Promise<ChildProcess> {
  const child = spawn(
    'spamd',
    [`--listen=127.0.0.1:${port}`, '--max-children=1', '--syslog=stderr', '--nouser-config'],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  for (let i = 0; i < 150; i++) {
    if (spawnSync('spamc', ['-d', '127.0.0.1', '-p', String(port), '-K']).status === 0) return child;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill();
  throw new Error('spamd did not start');
}

describe('pgpipe doctor', () => {
  let cluster: PgCluster;
  let spamd: ChildProcess;
  let url: string;
  const port = 20_000 + (process.pid % 20_000);
  const doctor = (args: string[], env: Record<string, string> = {}) =>
    runCli(['doctor', ...args], {
      env: { PGPIPE_DATABASE_URL: url, PGPIPE_SPAMC_ARGS: `-d 127.0.0.1 -p ${port}`, ...env },
      timeoutMs: 90_000,
    });

  before(async () => {
    [cluster, spamd] = await Promise.all([startPostgres(), startSpamd(port)]);
    // Like the tutorial's pg_ident map: root (the admin) and the filter's user each connect as their own role.
    await cluster.psql(`CREATE ROLE root SUPERUSER LOGIN; CREATE ROLE ${FILTER_USER} LOGIN;`);
    url = cluster.url.replace(/&user=[^&]*/, '');
    chmodSync(cluster.socketDir, 0o755); // the filter's user must reach the socket, as with /var/run/postgresql
  });
  after(async () => {
    spamd.kill();
    await cluster.stop();
  });

  it('reports the missing SELECT grant for the filter user, with the GRANT to run', async (t) => {
    if (!isRoot) return t.skip('switching to the filter user needs root');
    const result = await doctor(['--filter-user', FILTER_USER]);
    assert.equal(result.code, 1, result.stdout.toString());
    const line = doctorLines(result.stdout).find((l) => l.name === 'filter user');
    assert.equal(line?.status, 'FAIL');
    assert.match(
      line?.detail ?? '',
      /^nobody cannot read the tables: database unavailable \(query\): SQLSTATE 42501 -- fix: .*GRANT SELECT ON users, aliases TO its role/,
    );
  });

  it('passes every check once the filter user may read the tables', async () => {
    await cluster.psql(`GRANT SELECT ON users, aliases TO ${FILTER_USER};`);
    const result = await doctor(['--filter-user', isRoot ? FILTER_USER : (process.env.USER ?? 'root')]);
    const got = doctorLines(result.stdout);
    assert.deepEqual(
      got.map((l) => [l.name, l.status]),
      [
        ['config', 'ok'],
        ['database', 'ok'],
        ['tables', 'ok'],
        ['keys', 'ok'],
        ['spamd', 'ok'],
        ['sendmail', 'ok'],
        ['filter user', 'ok'],
      ],
      result.stdout.toString(),
    );
    assert.equal(result.code, 0);
    assert.match(result.stdout.toString(), /\ndoctor: no failures\n$/);
  });

  it('fails spamd, sendmail and a missing Unix user, each with a fix, exit 1', async () => {
    const result = await doctor(
      ['--filter-user', 'pgpipe-no-such-user', '--sendmail', '/nonexistent/sendmail', '--json'],
      { PGPIPE_SPAMC_ARGS: '-d 127.0.0.1 -p 1' },
    );
    assert.equal(result.code, 1);
    const json = JSON.parse(result.stdout.toString()) as {
      checks: { name: string; status: string; detail: string; fix: string | null }[];
      failures: number;
    };
    const byName = Object.fromEntries(json.checks.map((c) => [c.name, c]));
    assert.equal(byName.spamd?.status, 'fail');
    assert.match(byName.spamd?.detail ?? '', /-p 1 -K exited \d+.*: spamd not reachable$/);
    assert.match(byName.spamd?.fix ?? '', /start spamd/);
    assert.equal(byName.sendmail?.status, 'fail');
    assert.match(byName.sendmail?.fix ?? '', /sendmail = PATH/);
    if (isRoot) {
      assert.equal(byName['filter user']?.status, 'fail');
      assert.equal(byName['filter user']?.detail, 'Unix user pgpipe-no-such-user does not exist');
      assert.equal(json.failures, 3);
    }
  });

  it('says how to fix an unreachable database and missing tables', async () => {
    const down = await doctor([
      '--no-spam-check',
      '--db',
      'postgresql://root@127.0.0.1:1/none',
      '--db-timeout',
      '2000',
    ]);
    assert.equal(down.code, 1);
    const database = doctorLines(down.stdout).find((l) => l.name === 'database');
    assert.equal(database?.status, 'FAIL');
    assert.match(database?.detail ?? '', /connection refused -- fix: start PostgreSQL and check database_url/);

    await cluster.psql('CREATE DATABASE empty_db', 'postgres');
    const empty = await doctor(['--no-spam-check', '--db', url.replace('/mailstore_db', '/empty_db')]);
    const tables = doctorLines(empty.stdout).find((l) => l.name === 'tables');
    assert.equal(tables?.status, 'FAIL');
    assert.equal(
      tables?.detail,
      "table users and aliases missing -- fix: run pgpipe db init (creates the tutorial's tables)",
    );
    assert.equal(doctorLines(empty.stdout).find((l) => l.name === 'spamd')?.status, 'skip');
  });

  it('stops at an invalid configuration, naming the setting', async () => {
    const result = await doctor([], { PGPIPE_SPAMD_DOWN: 'maybe' });
    assert.equal(result.code, 1);
    const got = doctorLines(result.stdout);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.status, 'FAIL');
    assert.match(got[0]?.detail ?? '', /^invalid PGPIPE_SPAMD_DOWN: .* -- fix: correct that setting/);
  });

  it("judges aliases by the filter's resolver: a chain it would hold fails, mixed aliases are counted", async () => {
    await cluster.psql(`INSERT INTO users (email, pgpkey, password, maildir) VALUES ('u@doctor.test', 'KEY', 'x', 'u/');
      INSERT INTO aliases (alias, email) VALUES ('team@doctor.test', 'u@doctor.test'),
        ('team@doctor.test', 'x@outside.example'), ('staff', 'team@doctor.test');`);
    try {
      const aliasLine = (stdout: Buffer) => doctorLines(stdout).find((l) => l.name === 'aliases');
      const ok = aliasLine((await doctor(['--filter-user', 'pgpipe-no-such-user'])).stdout);
      assert.deepEqual(
        [ok?.status, ok?.detail],
        [
          'ok',
          '2 aliases, local domains doctor.test; ' +
            '2 mix members with and without a key (each member gets its own copy)',
        ],
      );
      const hops = Array.from(
        { length: 6 },
        (_, i) => `('h${i}@doctor.test', '${i === 5 ? 'u' : `h${i + 1}`}@doctor.test')`,
      ).join(', ');
      await cluster.psql(`INSERT INTO aliases (alias, email) VALUES ${hops};`);
      const result = await doctor(['--filter-user', 'pgpipe-no-such-user', '--local-domains', 'Extra.Example']);
      const line = doctorLines(result.stdout).find((l) => l.name === 'aliases');
      assert.equal(line?.status, 'FAIL');
      assert.match(line?.detail ?? '', /^mail to h0@doctor\.test is held: alias chain longer than 5 hops -- fix: /);
      assert.equal(result.code, 1);
    } finally {
      await cluster.psql('DELETE FROM aliases; DELETE FROM users;');
    }
  });
});
