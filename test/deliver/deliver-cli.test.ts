// `bin/pgpipe deliver` as Postfix runs it: real process, real throwaway PostgreSQL, fixture spamc, and a
// real-protocol LMTP server. Asserts exit status, the one output line (DSN code agreeing with the status, no message
// text) and what the LMTP server stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { seedStore } from '../helpers/seed.js';
import { decryptWithGpg, parsePgpMime } from '../helpers/decrypt.js';
import { startFakeLmtp, type FakeLmtp, type FakeLmtpOptions } from './fake-lmtp.js';

const spamc = fileURLToPath(new URL('../fixtures/bin/fake-spamc.js', import.meta.url));
const MESSAGE =
  'From: Alice <alice@example.net>\nTo: bob@example.org\nSubject: the plan\nMessage-ID: <d1@example.net>\n\nmeet at noon\n';
const DSN = /^([245])\.\d{1,3}\.\d{1,3} /;

let pg: PgCluster;
let bob: TestKey;
const servers: FakeLmtp[] = [];

before(async () => {
  pg = await startPostgres();
  bob = await makeKey({ kind: 'curve25519', email: 'bob@example.org' });
  await seedStore(
    { databaseUrl: pg.url },
    [{ email: 'bob@example.org', pgpkey: bob.publicArmored }],
    [{ alias: 'bobby', email: 'bob@example.org' }],
  );
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await pg?.stop();
});

async function lmtp(options: FakeLmtpOptions = {}): Promise<FakeLmtp> {
  const server = await startFakeLmtp(options);
  servers.push(server);
  return server;
}

function deliver(args: string[], opts: { input?: string; db?: string; lmtp?: string } = {}): Promise<CliResult> {
  const lmtpArgs = opts.lmtp === undefined ? [] : ['--lmtp', opts.lmtp];
  return runCli(['deliver', '--db', opts.db ?? pg.url, '--spamc', spamc, ...lmtpArgs, ...args], {
    input: opts.input ?? MESSAGE,
  });
}

/** Exactly one line, starting with a DSN whose class agrees with the exit status, and no message text in it. */
function assertReport(result: CliResult, code: 0 | 69 | 75): string {
  assert.equal(result.code, code, result.stderr);
  assert.equal(result.stdout.length, 0);
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, result.stderr);
  const line = lines[0] as string;
  assert.equal(DSN.exec(line)?.[1], code === 0 ? '2' : code === 75 ? '4' : '5', line);
  assert.ok(!line.includes('the plan') && !line.includes('meet at noon'), line);
  return line;
}

describe('pgpipe deliver (CLI, real PostgreSQL, LMTP server)', () => {
  it('a keyed recipient (through an alias): 0 after the 2xx; the stored copy decrypts; the envelope as given', async () => {
    const server = await lmtp();
    const line = assertReport(
      await deliver(['--queue-id', 'Q1', '-f', 'alice@example.net', '--', 'bobby@example.org'], {
        lmtp: server.address,
      }),
      0,
    );
    assert.match(line, /^2\.0\.0 pgpipe: 1 rcpt: encrypted [0-9A-F]{16}; spam no -1\.0; \d+\.\d\ds$/);
    const [stored, ...more] = server.transactions;
    assert.equal(more.length, 0);
    assert.equal(stored?.from, 'alice@example.net');
    assert.deepEqual(stored?.to, ['bobby@example.org']);
    parsePgpMime(stored!.data);
    assert.ok(!stored!.data.includes('meet at noon'));
    assert.match((await decryptWithGpg(stored!.data, bob.privateArmored)).toString(), /meet at noon/);
  });

  it('the null sender (a bounce) is MAIL FROM:<>; a recipient that looks like an option stays a recipient', async () => {
    const server = await lmtp();
    assertReport(await deliver(['-f', '', '--', '-V@example.org'], { lmtp: server.address }), 0);
    assert.equal(server.transactions[0]?.from, '');
    assert.deepEqual(server.transactions[0]?.to, ['-V@example.org']);
  });

  it("Dovecot's 5xx for the recipient: 69 with Dovecot's enhanced code and text", async () => {
    const server = await lmtp({
      rcpt: () => [550, "5.1.1 <nobody@example.org> User doesn't exist: nobody@example.org"],
    });
    const line = assertReport(
      await deliver(['-f', 'alice@example.net', '--', 'nobody@example.org'], { lmtp: server.address }),
      69,
    );
    assert.equal(
      line,
      "5.1.1 pgpipe: <nobody@example.org>: LMTP 550 5.1.1 <nobody@example.org> User doesn't exist: nobody@example.org",
    );
  });

  it("Dovecot's 4xx after DATA (mailbox full): 75 with its code", async () => {
    const server = await lmtp({ data: () => [452, '4.2.2 <bob@example.org> Mailbox is full'] });
    const line = assertReport(
      await deliver(['-f', 'alice@example.net', '--', 'bob@example.org'], { lmtp: server.address }),
      75,
    );
    assert.match(line, /^4\.2\.2 pgpipe: <bob@example\.org>: LMTP 452 4\.2\.2 /);
  });

  it('Dovecot down, or the connection dropped after DATA: 75', async () => {
    assert.match(
      assertReport(
        await deliver(['-f', 'a@example.net', '--', 'bob@example.org'], { lmtp: 'unix:/nonexistent/lmtp' }),
        75,
      ),
      /^4\.3\.0 pgpipe: cannot connect to LMTP \/nonexistent\/lmtp \(ENOENT\)$/,
    );
    const dropping = await lmtp({ dropAfterData: true });
    assertReport(await deliver(['-f', 'a@example.net', '--', 'bob@example.org'], { lmtp: dropping.address }), 75);
  });

  it('Dovecot slower than --deadline: 75 at our deadline, well before Postfix would kill us', async () => {
    const server = await lmtp({ dataDelayMs: 30_000 });
    const started = Date.now();
    const line = assertReport(
      await deliver(['--deadline', '2000', '-f', 'a@example.net', '--', 'bob@example.org'], { lmtp: server.address }),
      75,
    );
    assert.match(line, /^4\.3\.0 pgpipe: internal deadline exceeded/);
    assert.ok(Date.now() - started < 10_000);
  });

  it('PostgreSQL unreachable: 75 4.3.0 and nothing handed to Dovecot', async () => {
    const server = await lmtp();
    const db = 'postgresql:///nodb?host=/nonexistent&connect_timeout=2';
    assert.match(
      assertReport(await deliver(['-f', 'a@example.net', '--', 'bob@example.org'], { lmtp: server.address, db }), 75),
      /^4\.3\.0 pgpipe: database unavailable/,
    );
    assert.equal(server.transactions.length, 0);
  });

  it('no --lmtp, a broken argv or a misplaced option: 75 4.3.5, never a bounce', async () => {
    assertReport(await deliver(['-f', 'a@example.net', '--', 'bob@example.org']), 75);
    for (const args of [
      ['deliver', '--lmtp', 'unix:/x', '--', 'bob@example.org'],
      ['--lmtp', 'unix:/x', 'deliver', '-f', 'a@b', '--', 'c@d'],
      ['deliver', '--no-such-option', '-f', 'a@b', '--', 'c@d'],
      ['deliver', '--lmtp', 'localhost:24', '-f', 'a@b', '--', 'c@d'],
    ]) {
      const result = await runCli(args, { input: MESSAGE });
      assert.match(assertReport(result, 75), /^4\.3\.5 pgpipe: /, args.join(' '));
    }
  });
});
