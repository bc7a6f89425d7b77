// SIGTERM: serve stops accepting at once, lets a running transaction finish within serve_grace (its 250 still
// reaches the client), and past the grace answers 421 / drops the rest, which Postfix retries. SIGHUP re-reads the
// config without dropping anything.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLmtp } from '../../src/adapters/lmtp.js';
import { startFakeLmtp, type FakeLmtp } from '../deliver/fake-lmtp.js';
import { makeKey } from '../helpers/keys.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { seedStore } from '../helpers/seed.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

const MESSAGE = Buffer.from('From: a@example.net\r\nTo: bob@example.org\r\nSubject: s\r\n\r\nbody\r\n');
const send = (serve: ServeProcess) =>
  createLmtp({ lmtp: serve.address }).deliver(
    MESSAGE,
    { sender: 'a@example.net', recipients: ['bob@example.org'] },
    AbortSignal.timeout(20_000),
  );
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw session: each line sent after the previous reply's last line; everything the server said. */
function dialogue(serve: ServeProcess, lines: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: serve.address.slice('unix:'.length) });
    let heard = '';
    let next = 0;
    socket.on('data', (chunk: Buffer) => {
      heard += chunk.toString('latin1');
      if (!/(^|\r\n)\d{3} [^\r\n]*\r\n$/.test(heard)) return; // wait for a reply's last line
      if (next < lines.length) socket.write(`${lines[next++]}\r\n`);
    });
    socket.once('error', reject);
    socket.once('close', () => resolve(heard));
  });
}
const lhlo = (serve: ServeProcess): Promise<string> => dialogue(serve, ['LHLO test', 'QUIT']);

describe('pgpipe serve shutdown and reload', () => {
  let cluster: PgCluster;
  let slow: FakeLmtp;

  before(async () => {
    const bob = await makeKey({ kind: 'curve25519', email: 'bob@example.org' });
    cluster = await startPostgres();
    await seedStore({ databaseUrl: cluster.url }, [{ email: 'bob@example.org', pgpkey: bob.publicArmored }]);
    slow = await startFakeLmtp({ dataDelayMs: 1500 });
  });
  after(async () => {
    await slow?.close();
    await cluster?.stop();
  });

  it('a transaction running at SIGTERM finishes within the grace and gets its 250; new connections are refused', async () => {
    const serve = await startServe(['--db', cluster.url, '--next', slow.address, '--no-spam-check']);
    const pending = send(serve);
    await delay(500);
    serve.child.kill('SIGTERM');
    await delay(200);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ path: serve.address.slice('unix:'.length) });
      socket.once('error', () => resolve(true));
      socket.once('data', () => resolve(false));
    });
    assert.equal(refused, true, 'a new connection was accepted after SIGTERM');
    const result = await pending;
    assert.equal(result.kind, 'replied');
    assert.equal(result.kind === 'replied' ? result.replies[0]?.code : 0, 250);
    assert.equal(await serve.stop(), 0);
  });

  it('past the grace the client is not told 250 (Postfix keeps the message)', async () => {
    const serve = await startServe(['--db', cluster.url, '--next', slow.address, '--no-spam-check', '--grace', '200']);
    const pending = send(serve);
    await delay(400);
    serve.child.kill('SIGTERM');
    const result = await pending;
    const codes = result.kind === 'replied' ? result.replies.map((r) => r.code) : [];
    assert.ok(result.kind === 'failed' || codes.every((code) => code >= 400 && code < 500), JSON.stringify(result));
    assert.equal(await serve.stop(), 0);
  });

  it('SIGHUP re-reads the configuration (SIZE follows message_size_limit) and keeps serving', async () => {
    const fast = await startFakeLmtp({});
    const dir = mkdtempSync(join(tmpdir(), 'pgpipe-hup-'));
    const conf = join(dir, 'pgpipe.conf');
    writeFileSync(conf, 'message_size_limit = 1000\n');
    const serve = await startServe(['--db', cluster.url, '--next', fast.address, '--no-spam-check'], {
      PGPIPE_CONFIG: conf,
    });
    try {
      assert.match(await lhlo(serve), /250[ -]SIZE 1000\r\n/);
      writeFileSync(conf, 'message_size_limit = 50000000\n');
      serve.child.kill('SIGHUP');
      await delay(300);
      assert.match(serve.stderr(), /configuration re-read/);
      assert.match(await lhlo(serve), /250[ -]SIZE 50000000\r\n/);
      const result = await send(serve);
      assert.equal(result.kind === 'replied' ? result.replies[0]?.code : 0, 250);
    } finally {
      await serve.stop();
      await fast.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a recipient repeated in another case waits for a later transaction (LMTP owes one reply per RCPT)', async () => {
    const fast = await startFakeLmtp({});
    const serve = await startServe(['--db', cluster.url, '--next', fast.address, '--no-spam-check']);
    try {
      const said = await dialogue(serve, [
        'LHLO test',
        'MAIL FROM:<a@example.net>',
        'RCPT TO:<Bob@example.org>',
        'RCPT TO:<bob@example.org>',
        'QUIT',
      ]);
      assert.match(said, /\r\n250 .*\r\n250 .*\r\n452 4\.5\.3 pgpipe: recipient repeated/s);
    } finally {
      await serve.stop();
      await fast.close();
    }
  });
});
