// "No path through the code exits with anything but 0, 69 or 75 in filter mode": crashes, signals, timeouts,
// hostile bytes and dead dependencies, each checked for the status and its one DSN-prefixed line.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { fileURLToPath } from 'node:url';
import { RECORDING_SENDMAIL } from '../helpers/recording-sendmail.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';

const bin = (name: string): string => fileURLToPath(new URL(`../fixtures/bin/${name}`, import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'pgpipe-exit-'));
let pg: PgCluster;
before(async () => {
  pg = await startPostgres();
  base.splice(1, 0, '--db', pg.url);
});
after(async () => {
  await pg?.stop();
  rmSync(out, { recursive: true, force: true });
});
const MESSAGE = 'From: a@example.net\nTo: b@example.org\nSubject: s\n\nbody\n';
const base = ['filter', '--sendmail', RECORDING_SENDMAIL, '--spamc', bin('fake-spamc.js')];

function check(result: CliResult, allowed: readonly number[] = [0, 69, 75]): number {
  assert.ok(
    result.code !== null && allowed.includes(result.code),
    `exit ${result.code} signal ${result.signal}: ${result.stderr}`,
  );
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, result.stderr);
  const klass = { 0: '2', 69: '5', 75: '4' }[result.code as 0 | 69 | 75];
  assert.match(lines[0] as string, new RegExp(`^${klass}\\.\\d{1,3}\\.\\d{1,3} `));
  return result.code as number;
}

/** Deterministic pseudo-random bytes (xorshift), so a failure is reproducible. */
function noise(length: number, seed: number): Buffer {
  const buf = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

describe('filter exit statuses are only 0, 69 or 75', () => {
  for (const fault of ['throw', 'reject', 'exit1']) {
    it(`injected bug (${fault}) while waiting on spamc → 75 with 4.3.0`, async () => {
      const dir = mkdtempSync(join(out, 'fault-'));
      const result = await runCli([...base, '-f', 'a@x', '--', 'b@example.org'], {
        input: MESSAGE,
        env: {
          FAKE_OUT_DIR: dir,
          RECORD_DIR: dir,
          FAKE_SPAMC_MODE: 'hang',
          INJECT_FAULT: fault,
          INJECT_FAULT_WHEN: join(dir, 'spamc-args'),
          NODE_OPTIONS: `--import=${bin('inject-fault.mjs')}`,
        },
      });
      assert.equal(check(result, [75]), 75);
      assert.match(result.stderr, /^4\.3\.0 /);
    });
  }

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    it(`${signal} mid-run → 75`, async () => {
      const dir = mkdtempSync(join(out, 'signal-'));
      let pid = 0;
      const running = runCli([...base, '-f', 'a@x', '--', 'b@example.org'], {
        input: MESSAGE,
        env: { HOME: undefined, FAKE_OUT_DIR: dir, RECORD_DIR: dir, FAKE_SPAMC_MODE: 'hang' },
        onSpawn: (p) => (pid = p),
      });
      // Mid-run = spamc started (it records its argv first thing).
      for (let i = 0; i < 300 && !existsSync(join(dir, 'spamc-args')); i++) await new Promise((r) => setTimeout(r, 50));
      process.kill(pid, signal);
      check(await running, [75]);
    });
  }

  const hostile: [string, Buffer][] = [
    ['empty input', Buffer.alloc(0)],
    ['random bytes', noise(64 * 1024, 1)],
    ['random bytes after a header', Buffer.concat([Buffer.from('Subject: x\n\n'), noise(32 * 1024, 2)])],
    ['only NULs', Buffer.alloc(4096)],
    ['one 1 MB line', Buffer.alloc(1 << 20, 0x41)],
    ['lone CRs, no LF', Buffer.from('From: a\rTo: b\r\rbody\r')],
    [
      '60-deep multipart, no closing boundaries',
      Buffer.from(
        Array.from({ length: 60 }, (_, i) => `Content-Type: multipart/mixed; boundary="b${i}"\n\n--b${i}\n`).join('') +
          'x\n',
      ),
    ],
    ['header continuation first', Buffer.from(' folded: first\n\nbody\n')],
    [
      'invalid UTF-8 in addresses headers',
      Buffer.from([0x46, 0x72, 0x6f, 0x6d, 0x3a, 0x20, 0xc3, 0x28, 0x0a, 0x0a, 0xff]),
    ],
  ];
  for (const [name, input] of hostile) {
    it(`hostile input: ${name}`, async () => {
      check(
        await runCli([...base, '-f', 'a@x', '--', 'b@example.org'], {
          input,
          env: { FAKE_OUT_DIR: out, RECORD_DIR: out },
        }),
      );
    });
  }

  it('hostile recipients and senders (NUL-free argv: quotes, spaces, 2000 chars, invalid UTF-8 text)', async () => {
    const rcpts = [
      '"john doe"@example.org',
      `${'a'.repeat(2000)}@example.org`,
      "o'brien@example.org",
      '\u00ff\u00fe@example.org',
      '-x@y',
      '--@y',
    ];
    check(
      await runCli([...base, '-oi', '-f', '-f', ...rcpts], {
        input: MESSAGE,
        env: { FAKE_OUT_DIR: out, RECORD_DIR: out },
      }),
    );
  });

  for (const [name, args, env] of [
    ['database unreachable', ['--db', 'postgresql:///mailstore_db?host=/nonexistent&user=nobody'], {}],
    ['sendmail missing', ['--sendmail', '/nonexistent/sendmail'], {}],
    ['spamc missing', ['--spamc', '/nonexistent/spamc'], {}],
    ['spamc crashing', [], { FAKE_SPAMC_MODE: 'crash' }],
    ['spamc garbage', [], { FAKE_SPAMC_MODE: 'garbage' }],
    ['sendmail exits early', [], { RECORD_MODE: 'exit0-early' }],
    ['config file unreadable', ['--config', '/nonexistent/pgpipe.conf'], {}],
    ['deadline 1 ms', ['--deadline', '1'], {}],
  ] as const) {
    it(`dead or broken dependency: ${name}`, async () => {
      check(
        await runCli([...base, ...args, '-f', 'a@x', '--', 'b@example.org'], {
          input: MESSAGE,
          env: { FAKE_OUT_DIR: out, RECORD_DIR: out, ...env },
        }),
      );
    });
  }
});
