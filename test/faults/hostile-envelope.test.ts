// Hostile envelopes through the real CLI: SQL metacharacters, quotes, spaces, leading "-", 2,000+ characters,
// non-UTF-8 bytes, 500 recipients, the null sender; NUL (which no argv can carry) through the in-process pipeline.
// Parameterised queries are proven from PostgreSQL's own statement log, `--` from the argv sendmail receives.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as openpgp from 'openpgp';
import { makeKey } from '../helpers/keys.js';
import { readRecords, recordDir, RECORDING_SENDMAIL } from '../helpers/recording-sendmail.js';
import { PGPIPE_BIN as PGPIPE, runCli } from '../helpers/run-cli.js';
import { seedStore } from '../helpers/seed.js';
import { inProcessHarness } from '../helpers/in-process.js';
import { judgeRun, type OracleRecipient } from '../helpers/oracle.js';
import { assertOutcome, runFilterCli, worldForSuite, tokenMessage } from './support.js';

const ARGV_SENDMAIL = fileURLToPath(new URL('./bin/argv-sendmail.sh', import.meta.url));
const plain = (address: string): OracleRecipient => ({ address, privateKey: null });

describe('hostile envelopes', () => {
  const world = worldForSuite();
  let dash: OracleRecipient;
  let spaced: OracleRecipient;
  before(async () => {
    const dashKey = await makeKey({ kind: 'curve25519', email: '-dash@faults.test' });
    // OpenPGP.js refuses the space in a UID
    const spacedKey = await makeKey({ kind: 'curve25519', email: 'john.doe@faults.test' });
    await seedStore({ databaseUrl: world.pg.url }, [
      { email: '-dash@faults.test', pgpkey: dashKey.publicArmored },
      { email: 'john doe@faults.test', pgpkey: spacedKey.publicArmored },
    ]);
    dash = {
      address: '-dash@faults.test',
      privateKey: await openpgp.readPrivateKey({ armoredKey: dashKey.privateArmored }),
    };
    // Postfix pipe flag q quotes a local part with a space; pgpipe unquotes it for the lookup only.
    spaced = {
      address: '"john doe"@faults.test',
      privateKey: await openpgp.readPrivateKey({ armoredKey: spacedKey.privateArmored }),
    };
  });

  test('SQL metacharacters and LIKE wildcards match nothing, inject nothing; the tables survive', async () => {
    const before = await world.pg.psql('SELECT count(*) FROM users');
    const hostile = [
      `x'); DROP TABLE users; --@faults.test`,
      `' OR '1'='1@faults.test`,
      `%@faults.test`,
      '_lice@faults.test',
      `alice@faults.test' --`,
      `\\'; SELECT pg_sleep(10); --@faults.test`,
      '$1@faults.test',
      'ALICE@FAULTS.TEST\\',
    ];
    const m = tokenMessage();
    const r = await runFilterCli({ world, input: m.raw, recipients: hostile.map(plain) });
    // Every hostile address is an unkeyed recipient: delivered as sent (--missing-key deliver), never encrypted to
    // alice.
    assertOutcome(r, 0, []);
    assert.equal(r.verdict.ok && r.verdict.outcome, 'exit0-plain-unkeyed-only');
    assert.equal(await world.pg.psql('SELECT count(*) FROM users'), before);
    assert.ok(r.run.ms < 5_000, 'no pg_sleep ran');
  });

  test("PostgreSQL's statement log shows the addresses only as bound parameters, never in SQL text", async () => {
    await world.pg.psql("ALTER SYSTEM SET log_statement = 'all'; SELECT pg_reload_conf();");
    try {
      await sleep(300);
      const marker = `zq'inj"ect-${Date.now()}@faults.test`;
      const r = await runFilterCli({ world, input: tokenMessage().raw, recipients: [plain(marker)] });
      assertOutcome(r, 0, []);
      await sleep(300);
      const log = readFileSync(join(world.pg.socketDir, 'log'), 'latin1');
      const lines = log.split('\n').filter((l) => l.includes('zq'));
      assert.ok(lines.length > 0, 'the lookup was logged');
      for (const line of lines)
        assert.match(line, /DETAIL:\s+parameters: /, `only as a parameter: ${line.slice(0, 200)}`);
      assert.ok(log.includes('unnest($1'), 'the logged statement uses placeholders');
    } finally {
      await world.pg.psql('ALTER SYSTEM RESET log_statement; SELECT pg_reload_conf();');
    }
  });

  test('recipients that look like options stay recipients: after "--" for sendmail, never parsed by pgpipe', async () => {
    const tricky = [
      '--sendmail=/bin/false@faults.test',
      '-V@faults.test',
      '--help@faults.test',
      '-t@faults.test',
      '-oQ/tmp@faults.test',
      '-f@faults.test',
    ];
    const m = tokenMessage();
    const r = await runFilterCli({ world, input: m.raw, recipients: [...tricky.map(plain), dash] });
    assertOutcome(r, 0, [m.subjectToken, m.bodyToken]);
    assert.ok(r.verdict.ok, r.verdict.ok ? '' : r.verdict.reason);
    for (const call of r.calls) {
      const dd = call.argv.indexOf('--');
      assert.ok(dd > 0, 'sendmail argv has "--"');
      assert.ok(
        call.argv.slice(0, dd).every((a) => !tricky.includes(a) && a !== dash.address),
        'no recipient before "--"',
      );
    }
    assert.equal(r.verdict.ok && r.verdict.outcome, 'exit0-encrypted', 'the keyed "-dash" user got ciphertext');
  });

  test("the tutorial's argv without \"--\" (-oi -f SENDER RCPT...) also keeps a '-t@x' recipient a recipient", async () => {
    const rec = recordDir();
    try {
      const m = tokenMessage();
      const { code } = await runCli(
        [
          'filter',
          '--db',
          world.pg.url,
          '--sendmail',
          RECORDING_SENDMAIL,
          '--no-spam-check',
          '-oi',
          '-f',
          'sender@example.org',
          '-t@faults.test',
          world.alice.address,
        ],
        { input: m.raw, env: { RECORD_DIR: rec.dir }, pipe: true },
      );
      assert.equal(code, 0);
      const all = readRecords(rec.dir).flatMap((c) => c.argv.slice(c.argv.indexOf('--') + 1));
      assert.deepEqual(all.sort(), ['-t@faults.test', world.alice.address].sort());
    } finally {
      rec.cleanup();
    }
  });

  test('quoted local part with a space: looked up unquoted, handed to sendmail as one quoted argument', async () => {
    const m = tokenMessage();
    const r = await runFilterCli({ world, input: m.raw, recipients: [spaced, plain('"a b c"@faults.test')] });
    assertOutcome(r, 0, [m.subjectToken]);
    assert.equal(r.verdict.ok && r.verdict.outcome, 'exit0-encrypted');
    assert.ok(r.calls.some((c) => c.argv.includes('"john doe"@faults.test')));
  });

  test('2,000- and 20,000-character recipients → delivered as sent (no key), no crash', async () => {
    const m = tokenMessage();
    const long = [`${'a'.repeat(2000)}@faults.test`, `${'b'.repeat(20_000)}@faults.test`];
    const r = await runFilterCli({ world, input: m.raw, recipients: long.map(plain) });
    assertOutcome(r, 0, []);
  });

  test(
    '500 recipients at once (250 keyed via +extensions, 250 unkeyed) → 0, each handed on exactly once',
    { timeout: 60_000 },
    async () => {
      const m = tokenMessage();
      const recipients: OracleRecipient[] = [];
      for (let i = 0; i < 250; i += 1) {
        recipients.push({ address: `alice+${i}@faults.test`, privateKey: world.alice.privateKey });
        recipients.push(plain(`nokey${i}@faults.test`));
      }
      const r = await runFilterCli({ world, input: m.raw, recipients });
      assertOutcome(r, 0, [m.subjectToken]);
      assert.equal(r.verdict.ok && r.verdict.outcome, 'exit0-encrypted');
      assert.equal(r.calls.length, 2, 'one encrypted copy for the 250 sharing a key, one as-sent copy');
    },
  );

  for (const sender of ['', '<>']) {
    test(`null sender ${JSON.stringify(sender)} → passed to sendmail unchanged as its own argument`, async () => {
      const m = tokenMessage();
      const r = await runFilterCli({ world, input: m.raw, sender });
      assertOutcome(r, 0, [m.subjectToken, m.bodyToken]);
      const argv = r.calls[0]?.argv ?? [];
      assert.equal(argv[argv.indexOf('-f') + 1], sender);
    });
  }

  const nonUtf8 = [
    {
      where: 'a recipient',
      sender: 'sender@example.org',
      rcpt: "$'caf\\xe9\\xff@faults.test'",
      raw: 'caf\u00e9\u00ff@faults.test',
    },
    { where: 'the sender', sender: "$'s\\xff@example.org'", rcpt: 'carol@faults.test', raw: 's\u00ff@example.org' },
  ];
  for (const v of nonUtf8) {
    test(`non-UTF-8 bytes in ${v.where}: never handed to sendmail altered (the exact bytes, or 69/75 without sendmail)`, async () => {
      const rec = recordDir();
      try {
        // Node cannot put raw bytes into argv; bash can ($'\xff'), so the CLI sees exactly what Postfix would pass.
        const sender = v.sender.startsWith('$') ? v.sender : `"${v.sender}"`;
        const script =
          `exec "${process.execPath}" "${PGPIPE}" filter --db "$1" --sendmail "${ARGV_SENDMAIL}" --no-spam-check ` +
          `-f ${sender} -- ${v.rcpt} "${world.alice.address}"`;
        const child = spawn('bash', ['--norc', '--noprofile', '-c', script, 'bash', world.pg.url], {
          env: { PATH: '/usr/bin:/bin', PGPIPE_CONFIG: '/dev/null', RECORD_DIR: rec.dir },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let output = '';
        child.stderr.on('data', (c: Buffer) => (output += c.toString('latin1')));
        child.stdin.end(tokenMessage().raw);
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        if (process.env.FAULTS_VERBOSE !== undefined) console.log(`    exit ${code}: ${output.trim()}`);
        assert.ok(code === 0 || code === 69 || code === 75, `exit ${code}: ${output}`);
        const calls = readdirSync(rec.dir).filter((n) => n.endsWith('.argv'));
        if (code === 0) {
          const argv = calls.flatMap((n) => readFileSync(join(rec.dir, n)).toString('latin1').split('\0'));
          assert.ok(argv.includes(v.raw), `sendmail got the original bytes: ${JSON.stringify(argv)}`);
        } else {
          assert.deepEqual(calls, [], 'refused without calling sendmail');
        }
      } finally {
        rec.cleanup();
      }
    });
  }

  test('NUL in a recipient (in-process: no argv can carry it) → no record, delivered as sent, no crash', async () => {
    const harness = inProcessHarness(world.pg.url, 20_000);
    const m = tokenMessage();
    const recipients = [plain('a\u0000b@faults.test'), world.alice];
    const hp = { enabled: true, subjectPlaceholder: '[...]' };
    const r = await harness.run(
      m.raw,
      'sender@example.org',
      recipients.map((x) => x.address),
      hp,
    );
    const verdict = await judgeRun(m.raw, 'sender@example.org', recipients, r, hp);
    assert.equal(r.exitCode, 0, r.diagnostics.split('\n')[0]);
    assert.ok(verdict.ok, verdict.ok ? '' : verdict.reason);
  });
});
