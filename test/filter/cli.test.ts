// `bin/pgpipe filter` as Postfix runs it: real process, real throwaway PostgreSQL, fixture sendmail/spamc.
// Asserts exit status, the one output line (DSN code agreeing with the status) and what sendmail received.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { readRecords, RECORDING_SENDMAIL } from '../helpers/recording-sendmail.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { seedStore } from '../helpers/seed.js';
import { decryptWithGpg, parsePgpMime } from '../helpers/decrypt.js';

const bin = (name: string): string => fileURLToPath(new URL(`../fixtures/bin/${name}`, import.meta.url));
const MESSAGE =
  'From: Alice <alice@example.net>\nTo: bob@example.org\nSubject: the plan\nMessage-ID: <c1@example.net>\n\nmeet at noon\n';
const DSN = /^([245])\.\d{1,3}\.\d{1,3} /;

let pg: PgCluster;
let bob: TestKey;
const out = mkdtempSync(join(tmpdir(), 'pgpipe-cli-'));

before(async () => {
  pg = await startPostgres();
  bob = await makeKey({ kind: 'curve25519', email: 'bob@example.org' });
  const expired = await makeKey({ kind: 'curve25519', email: 'old@example.org', expired: true });
  await seedStore(
    { databaseUrl: pg.url },
    [
      { email: 'bob@example.org', pgpkey: bob.publicArmored },
      { email: 'old@example.org', pgpkey: expired.publicArmored },
    ],
    [{ alias: 'bobby', email: 'bob@example.org' }],
  );
});
after(async () => {
  await pg?.stop();
  rmSync(out, { recursive: true, force: true });
});
beforeEach(() => {
  for (const f of readdirSync(out)) rmSync(join(out, f));
});

interface Sent {
  args: readonly string[];
  input: Buffer;
}
/** The copies sendmail read to EOF (what it would have queued), oldest first. */
const sent = (): Sent[] => readRecords(out).flatMap((c) => (c.data === null ? [] : [{ args: c.argv, input: c.data }]));

function filter(
  args: string[],
  opts: { input?: Buffer | string; env?: Record<string, string>; db?: string } = {},
): Promise<CliResult> {
  return runCli(
    ['filter', '--db', opts.db ?? pg.url, '--sendmail', RECORDING_SENDMAIL, '--spamc', bin('fake-spamc.js'), ...args],
    {
      input: opts.input ?? MESSAGE,
      env: { FAKE_OUT_DIR: out, RECORD_DIR: out, ...opts.env },
    },
  );
}

/** Exactly one line, starting with a DSN whose class agrees with the exit status. */
function assertReport(result: CliResult, code: 0 | 69 | 75): string {
  assert.equal(result.code, code, result.stderr);
  assert.equal(result.stdout.length, 0);
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, result.stderr);
  const klass = DSN.exec(lines[0] as string)?.[1];
  assert.equal(klass, code === 0 ? '2' : code === 75 ? '4' : '5', lines[0]);
  assert.ok((lines[0] as string).length < 4095);
  return lines[0] as string;
}

describe('pgpipe filter (CLI, real PostgreSQL)', () => {
  it("the tutorial's argv (-oi -f SENDER RECIPIENT) delivers an encrypted copy via sendmail -G -i -f S -- R", async () => {
    const result = await filter(['-oi', '-f', 'alice@example.net', 'bob@example.org']);
    const line = assertReport(result, 0);
    assert.match(line, /^2\.0\.0 pgpipe: 1 rcpt: encrypted [0-9A-F]{16}; spam no -1\.0; \d+\.\d\ds$/);
    const [copy, ...more] = sent();
    assert.equal(more.length, 0);
    assert.deepEqual(copy?.args, ['-G', '-i', '-f', 'alice@example.net', '--', 'bob@example.org']);
    parsePgpMime(copy!.input);
    assert.match((await decryptWithGpg(copy!.input, bob.privateArmored)).toString(), /meet at noon/);
  });

  it('the documented argv with --queue-id; an alias resolves to its user; a keyless recipient gets it as sent', async () => {
    const result = await filter([
      '--queue-id',
      '4XkQ2t',
      '-f',
      'alice@example.net',
      '--',
      'bobby@example.org',
      'nokey@example.org',
    ]);
    assertReport(result, 0);
    const copies = sent();
    assert.deepEqual(copies.map((c) => c.args.slice(5)).sort(), [['bobby@example.org'], ['nokey@example.org']]);
    const plain = copies.find((c) => c.args.includes('nokey@example.org'))!;
    assert.match(plain.input.toString(), /^X-Spam-Checker-Version: [\s\S]*\n\nmeet at noon\n$/);
  });

  it('--spamc-arg is repeatable and passed before our -x -t N', async () => {
    assertReport(
      await filter([
        '--spamc-arg',
        '-d',
        '--spamc-arg',
        '127.0.0.1',
        '--spamc-arg',
        '-p',
        '7830',
        '-f',
        'a@x',
        '--',
        'nokey@example.org',
      ]),
      0,
    );
    const args = JSON.parse(readFileSync(join(out, 'spamc-args'), 'utf8')) as string[];
    assert.deepEqual(args.slice(0, 5), ['-d', '127.0.0.1', '-p', '7830', '-x']);
    assert.equal(args[5], '-t');
  });

  it('a recipient that looks like an option stays a recipient (no --version, no --sendmail override)', async () => {
    for (const args of [
      ['-oi', '-f', 'a@x', '-Vx@example.org'],
      ['-f', 'a@x', '--', '--sendmail=/bin/false@example.org'],
    ]) {
      const result = await filter(args);
      assertReport(result, 0);
      assert.deepEqual(sent().at(-1)?.args.slice(5), [args.at(-1)]);
    }
  });

  it('the null sender (null_sender=) is passed on as -f ""', async () => {
    assertReport(await filter(['-f', '', '--', 'nokey@example.org']), 0);
    assert.deepEqual(sent()[0]?.args.slice(0, 5), ['-G', '-i', '-f', '', '--']);
  });

  it('database down → 75 with 4.3.0, nothing re-injected', async () => {
    const result = await filter(['-f', 'a@x', '--', 'bob@example.org'], {
      db: 'postgresql:///mailstore_db?host=/nonexistent&user=postgres',
    });
    assert.match(assertReport(result, 75), /^4\.3\.0 /);
    assert.deepEqual(sent(), []);
  });

  it('unusable key (expired) → 75 4.7.5 by default; --unusable-key reject → 69 5.7.5', async () => {
    assert.match(
      assertReport(await filter(['-f', 'a@x', '--', 'old@example.org']), 75),
      /^4\.7\.5 pgpipe: <old@example\.org>: stored OpenPGP key unusable: /,
    );
    assert.match(
      assertReport(await filter(['--unusable-key', 'reject', '-f', 'a@x', '--', 'old@example.org']), 69),
      /^5\.7\.5 /,
    );
    assert.deepEqual(sent(), []);
  });

  it('--missing-key defer → 75 4.7.1; reject → 69 5.7.1', async () => {
    assert.match(
      assertReport(await filter(['--missing-key', 'defer', '-f', 'a@x', '--', 'nokey@example.org']), 75),
      /^4\.7\.1 /,
    );
    assert.match(
      assertReport(await filter(['--missing-key', 'reject', '-f', 'a@x', '--', 'nokey@example.org']), 69),
      /^5\.7\.1 /,
    );
    assert.deepEqual(sent(), []);
  });

  it('--message-size-limit below the encrypted size → 69 5.3.4 (or 75 4.3.4 with --oversize defer), before sendmail', async () => {
    const big = `${MESSAGE}${'x'.repeat(60_000)}\n`;
    assert.match(
      assertReport(
        await filter(['--message-size-limit', '70000', '-f', 'a@x', '--', 'bob@example.org'], { input: big }),
        69,
      ),
      /^5\.3\.4 /,
    );
    assert.match(
      assertReport(
        await filter(['--message-size-limit', '70000', '--oversize', 'defer', '-f', 'a@x', '--', 'bob@example.org'], {
          input: big,
        }),
        75,
      ),
      /^4\.3\.4 /,
    );
    assert.deepEqual(sent(), []);
  });

  for (const mode of ['exit:75', 'exit:69', 'exit:1', 'signal:SIGSEGV']) {
    it(`sendmail ${mode} → 75`, async () => {
      assert.match(
        assertReport(await filter(['-f', 'a@x', '--', 'bob@example.org'], { env: { RECORD_MODE: mode } }), 75),
        /^4\.3\.0 pgpipe: re-injection failed/,
      );
    });
  }

  it('spamd down: delivered unscanned by default; 75 with --spamd-down defer', async () => {
    assertReport(await filter(['-f', 'a@x', '--', 'nokey@example.org'], { env: { FAKE_SPAMC_MODE: 'down' } }), 0);
    assert.doesNotMatch(sent()[0]!.input.toString(), /X-Spam/);
    assert.match(
      assertReport(
        await filter(['--spamd-down', 'defer', '-f', 'a@x', '--', 'nokey@example.org'], {
          env: { FAKE_SPAMC_MODE: 'down' },
        }),
        75,
      ),
      /^4\.3\.0 pgpipe: spam check unavailable \(spamc exit 69\)/,
    );
  });

  it('our deadline fires before anything hangs forever: spamc hang with --spamd-down defer → 75', async () => {
    const started = Date.now();
    const result = await filter(
      ['--deadline', '1500', '--spamd-down', 'defer', '-f', 'a@x', '--', 'nokey@example.org'],
      { env: { FAKE_SPAMC_MODE: 'hang' } },
    );
    assertReport(result, 75);
    assert.ok(Date.now() - started < 10_000);
  });

  it('sendmail hanging while reading: deadline kills it (no EOF → nothing queued) and defers', async () => {
    const result = await filter(['--deadline', '2000', '-f', 'a@x', '--', 'nokey@example.org'], {
      env: { RECORD_MODE: 'slow' },
      input: `${MESSAGE}${'y'.repeat(4 << 20)}\n`,
    });
    assert.match(assertReport(result, 75), /^4\.3\.0 pgpipe: internal deadline exceeded/);
    await new Promise((r) => setTimeout(r, 3500));
    assert.deepEqual(sent(), []);
  });

  it('--log none and --log syslog: the status line is the short form (details go to syslog only)', async () => {
    for (const log of ['none', 'syslog']) {
      assert.equal(
        assertReport(await filter(['--log', log, '-f', 'a@x', '--', 'nokey@example.org']), 0),
        '2.0.0 pgpipe: 1 rcpt',
      );
    }
    assert.match(
      assertReport(
        await filter(['--log', 'none', '-f', 'a@x', '--', 'bob@example.org'], {
          db: 'postgresql:///x?host=/nonexistent',
        }),
        75,
      ),
      /^4\.3\.0 pgpipe: database unavailable/,
    );
  });

  it('bad option or bad setting value → 75 with 4.3.5 (fix the config, mail waits)', async () => {
    assert.match(assertReport(await filter(['--bogus', '-f', 'a@x', '--', 'r@x']), 75), /^4\.3\.5 /);
    assert.match(assertReport(await filter(['--deadline', 'soon', '-f', 'a@x', '--', 'r@x']), 75), /^4\.3\.5 /);
    assert.match(assertReport(await filter(['-f', 'a@x', '--']), 75), /^4\.3\.5 /);
  });
});
