// Leak checks: every message carries a unique token in its Subject and body; across success, deferral and bounce
// paths the token must never appear in pgpipe's output, its log line, a bounce text, any file, or anything handed
// to sendmail for a keyed recipient outside the OpenPGP payload (the oracle), and pgpipe must create no file.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { makeKey } from '../helpers/keys.js';
import { seedStore } from '../helpers/seed.js';
import { inProcessHarness } from '../helpers/in-process.js';
import { HAS_STRACE, straceArgv } from '../helpers/strace.js';
import { closedPort } from './spamd-standin.js';
import {
  assertOutcome,
  runFilterCli,
  spamcAt,
  startWorld,
  tokenMessage,
  type FaultWorld,
  type FilterCall,
} from './support.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** A sendmail path under strace would trace the stand-in too; it writes only below RECORD_DIR, which is allowed. */
function writesIn(trace: string, allowedPrefix: string): string[] {
  return trace.split('\n').filter((line) => {
    if (!/(O_WRONLY|O_RDWR|O_CREAT|mkdir|rename|unlink|link\(|truncate)/.test(line)) return false;
    if (/= -1 /.test(line)) return false; // failed attempts created nothing
    const path = /"([^"]*)"/.exec(line)?.[1] ?? '';
    return !(path.startsWith(allowedPrefix) || /^\/dev\/(null|tty|pts\/)/.test(path));
  });
}

describe('leak checks (unique token in Subject and body)', () => {
  let world: FaultWorld;
  const mark = join(tmpdir(), `pgpipe-leak-mark-${process.pid}`);
  const tokens: string[] = [];

  before(async () => {
    world = await startWorld();
    const expired = await makeKey({ kind: 'curve25519', email: 'old@faults.test', expired: true });
    await seedStore({ databaseUrl: world.pg.url }, [{ email: 'old@faults.test', pgpkey: expired.publicArmored }]);
    closeSync(openSync(mark, 'w'));
    const past = new Date(Date.now() - 2000);
    utimesSync(mark, past, past);
  });
  after(async () => {
    rmSync(mark, { force: true });
    await world?.close();
  });

  /** Runs the CLI; assertOutcome checks output and status line, the oracle what sendmail got; files come last. */
  async function leakRun(
    name: string,
    call: Omit<FilterCall, 'world' | 'input'>,
    expected: 0 | 69 | 75,
  ): Promise<void> {
    const m = tokenMessage();
    tokens.push(m.subjectToken, m.bodyToken);
    const r = await runFilterCli({ world, input: m.raw, ...call });
    assertOutcome(r, expected, [m.subjectToken, m.bodyToken]);
    if (process.env.FAULTS_VERBOSE !== undefined) console.log(`    ${name}: ${r.run.output.trim().slice(0, 160)}`);
  }

  test('delivered: keyed copy is ciphertext only, unkeyed copy as sent, status line clean', async () => {
    await leakRun('delivered', { recipients: [world.alice, world.carol] }, 0);
  });
  test('deferred: database unreachable', async () => {
    await leakRun('db down', { dbUrl: 'postgresql://postgres@127.0.0.1:1/mailstore_db' }, 75);
  });
  test('deferred: stored key expired (reason names the recipient, not the content)', async () => {
    await leakRun('expired key', { recipients: [{ address: 'old@faults.test', privateKey: null }] }, 75);
  });
  test('bounced: --missing-key reject (the bounce text Postfix sends to the sender)', async () => {
    await leakRun('missing key reject', { recipients: [world.carol], flags: ['--missing-key', 'reject'] }, 69);
  });
  test('bounced: over --message-size-limit', async () => {
    await leakRun('oversize', { flags: ['--message-size-limit', '2000'] }, 69);
  });
  test('deferred: spamd down with --spamd-down defer', async () => {
    const port = await closedPort();
    await leakRun(
      'spamd down',
      {
        spamCheck: true,
        flags: [...spamcAt(port), '--spamd-down', 'defer'],
      },
      75,
    );
  });
  test('deferred: sendmail exits 75', async () => {
    await leakRun('sendmail 75', { env: { RECORD_MODE: 'exit', RECORD_EXIT: '75' } }, 75);
  });

  test('operator log lines (logLine, as sent to syslog) carry no token', async () => {
    const harness = inProcessHarness(world.pg.url, 20_000);
    const m = tokenMessage();
    tokens.push(m.subjectToken, m.bodyToken);
    const hp = { enabled: true, subjectPlaceholder: '[...]' };
    for (const rcpts of [[world.alice.address, world.carol.address], ['old@faults.test']]) {
      const r = await harness.run(m.raw, 'sender@example.org', rcpts, hp);
      assert.ok(!r.diagnostics.includes(m.subjectToken) && !r.diagnostics.includes(m.bodyToken), r.diagnostics);
    }
  });

  test('pgpipe wrote no file anywhere (strace of every run), and no new file holds a token', async () => {
    // 1. Precise: trace one full delivery (pgpipe + children) and list every successful write/create/rename/unlink.
    // CI installs strace (.ci/run): there the precise proof must run, not be skipped.
    if (process.env.CI === 'true') assert.ok(HAS_STRACE, 'strace is required in CI for the file-operation trace');
    if (HAS_STRACE) {
      const m = tokenMessage();
      tokens.push(m.subjectToken, m.bodyToken);
      const out = join(tmpdir(), `pgpipe-strace-${process.pid}.txt`);
      try {
        const { recordDir, RECORDING_SENDMAIL } = await import('../helpers/recording-sendmail.js');
        const { PGPIPE_BIN: PGPIPE } = await import('../helpers/run-cli.js');
        const rec = recordDir();
        try {
          const result = spawnSync(
            'strace',
            straceArgv(
              out,
              process.execPath,
              PGPIPE,
              'filter',
              '--db',
              world.pg.url,
              '--sendmail',
              RECORDING_SENDMAIL,
              '--no-spam-check',
              '-f',
              'sender@example.org',
              '--',
              world.alice.address,
              world.carol.address,
            ),
            { input: m.raw, env: { PATH: '/usr/bin:/bin', PGPIPE_CONFIG: '/dev/null', RECORD_DIR: rec.dir }, cwd: '/' },
          );
          assert.equal(result.status, 0, result.stderr.toString());
          const writes = writesIn(readFileSync(out, 'latin1'), rec.dir);
          assert.deepEqual(
            writes,
            [],
            "pgpipe and its children created or wrote no file outside the test's sendmail dir",
          );
        } finally {
          rec.cleanup();
        }
      } finally {
        rmSync(out, { force: true });
      }
    }
    // 2. Broad: files changed since the suite started in the writable places; none may hold a token.
    const dirs = [tmpdir(), '/var/tmp', '/dev/shm', homedir(), REPO].filter((d) => existsSync(d));
    // Pruned: dependencies, and the coding session's own machinery (never ours to read).
    const prune = [join(REPO, 'node_modules'), join(homedir(), '.claude'), join(tmpdir(), 'bash_*')].flatMap((p, i) => [
      ...(i === 0 ? [] : ['-o']),
      '-path',
      p,
    ]);
    const found = execFileSync(
      'find',
      [...dirs, '-xdev', '(', ...prune, ')', '-prune', '-o', '-type', 'f', '-newer', mark, '-size', '-64M', '-print'],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    )
      .split('\n')
      .filter(Boolean);
    const rootFiles = execFileSync('find', ['/', '-maxdepth', '1', '-type', 'f', '-newer', mark, '-print'], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);
    const holding = [...found, ...rootFiles].filter((file) => {
      try {
        const text = readFileSync(file, 'latin1');
        return tokens.some((t) => text.includes(t));
      } catch {
        return false;
      }
    });
    assert.deepEqual(holding, [], 'no file holds a token');
    // With nothing else running (CI runs test files one at a time), no new file may appear outside the test's own
    // directories at all (the cluster, and the runner's own caches).
    // test/run.js's own scratch (the empty embedded-store template it made before any test ran).
    const template = process.env.PGPIPE_TEST_EMBEDDED_TEMPLATE;
    const runnerScratch = template === undefined ? null : `${dirname(template)}/`;
    // PostgreSQL's own dynamic shared memory segments (/dev/shm/PostgreSQL.N) come and go with the server's work;
    // they are the database's, never pgpipe's (strace above proves pgpipe creates nothing).
    const foreign = [...found, ...rootFiles].filter(
      (f) =>
        !f.startsWith(world.pg.socketDir) &&
        !/\/tsx-\d+\//.test(f) &&
        !f.startsWith(join(tmpdir(), 'pgpipe-leak-')) &&
        !/^\/dev\/shm\/PostgreSQL\.\d+$/.test(f) &&
        !(runnerScratch !== null && f.startsWith(runnerScratch)),
    );
    // Other processes on the machine (a CI harness logging to /tmp, say) may create files meanwhile, so "no new file
    // at all" is proven per process by strace above; here the new files are only listed, and none holds a token.
    if (foreign.length > 0)
      console.log(`    (${foreign.length} new files from other processes, e.g. ${foreign.slice(0, 3).join(', ')})`);
  });
});
