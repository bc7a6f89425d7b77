// pgpipe serve in LMTP mode against a real PostgreSQL and an LMTP next hop (smtp-server, for the per-recipient
// answers Dovecot can't give on demand): encrypted copies, per-recipient replies relayed, 2xx only after the next
// hop accepted, every failure a 4xx, a key change seen by the very next message, SIGTERM ends it cleanly.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLmtp } from '../../src/adapters/lmtp.js';
import type { LmtpResult } from '../../src/deliver/ports.js';
import { startFakeLmtp, type FakeLmtp } from '../deliver/fake-lmtp.js';
import { decryptWithGpg, parsePgpMime } from '../helpers/decrypt.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { runCli } from '../helpers/run-cli.js';
import { seedStore } from '../helpers/seed.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { freePort } from '../e2e/free-port.js';

const MESSAGE =
  'From: Alice <alice@example.net>\r\nTo: bob@example.org\r\nSubject: secret plans\r\n\r\nmeet at noon\r\n';

async function send(serve: ServeProcess, recipients: string[], message = MESSAGE): Promise<LmtpResult> {
  const lmtp = createLmtp({ lmtp: serve.address });
  return lmtp.deliver(Buffer.from(message), { sender: 'alice@example.net', recipients }, AbortSignal.timeout(30_000));
}

const codes = (result: LmtpResult): number[] => (result.kind === 'replied' ? result.replies.map((r) => r.code) : []);

describe('pgpipe serve --protocol lmtp', () => {
  let cluster: PgCluster;
  let bob: TestKey;
  let rotated: TestKey;
  let next: FakeLmtp;
  let serve: ServeProcess;
  let metricsPort: number;

  before(async () => {
    [cluster, bob, rotated] = await Promise.all([
      startPostgres(),
      makeKey({ kind: 'curve25519', email: 'bob@example.org' }),
      makeKey({ kind: 'rsa2048', email: 'bob@example.org' }),
    ]);
    await seedStore({ databaseUrl: cluster.url }, [
      { email: 'bob@example.org', pgpkey: bob.publicArmored },
      { email: 'dave@example.org', pgpkey: '' },
    ]);
    next = await startFakeLmtp({
      rcpt: (address) => (address === 'gone@example.org' ? [550, "5.1.1 <gone@example.org> User doesn't exist"] : null),
      data: (address) => (address === 'full@example.org' ? [452, '4.2.2 <full@example.org> Mailbox is full'] : null),
    });
    metricsPort = await freePort();
    serve = await startServe([
      ...['--db', cluster.url, '--next', next.address, '--no-spam-check'],
      ...['--metrics', `inet:127.0.0.1:${metricsPort}`],
    ]);
  });
  after(async () => {
    await serve?.stop();
    await next?.close();
    await cluster?.stop();
  });

  it('encrypts to the stored key and answers 250 only once the next hop stored it', async () => {
    const before = next.transactions.length;
    const result = await send(serve, ['bob@example.org']);
    assert.deepEqual(codes(result), [250]);
    const stored = next.transactions[before];
    assert.ok(stored !== undefined);
    assert.deepEqual(stored.to, ['bob@example.org']);
    assert.doesNotMatch(stored.data.toString(), /meet at noon|secret plans/);
    const plain = await decryptWithGpg(parsePgpMime(stored.data).armor, bob.privateArmored);
    assert.match(plain.toString(), /meet at noon/);
    assert.match(serve.stderr(), /status=sent .*to=<bob@example\.org>:"encrypted/);
  });

  it("relays each recipient's own answer: stored, the next hop's 5xx, the next hop's 4xx", async () => {
    const result = await send(serve, ['bob@example.org', 'gone@example.org', 'full@example.org', 'dave@example.org']);
    assert.equal(result.kind, 'replied');
    const byRecipient = new Map(result.kind === 'replied' ? result.replies.map((r) => [r.recipient, r]) : []);
    assert.equal(byRecipient.get('bob@example.org')?.code, 250);
    assert.equal(byRecipient.get('gone@example.org')?.code, 550);
    assert.equal(byRecipient.get('gone@example.org')?.enhanced, '5.1.1');
    assert.match(byRecipient.get('gone@example.org')?.text ?? '', /User doesn't exist/);
    assert.equal(byRecipient.get('full@example.org')?.code, 452);
    assert.equal(byRecipient.get('full@example.org')?.enhanced, '4.2.2');
  });

  it('uses a rotated key for the very next message after `key set` returned', async () => {
    const set = await runCli(['key', 'set', 'bob@example.org', '-', '--db', cluster.url], {
      input: rotated.publicArmored,
    });
    assert.equal(set.code, 0, set.stderr);
    const before = next.transactions.length;
    assert.deepEqual(codes(await send(serve, ['bob@example.org'])), [250]);
    const armor = parsePgpMime(next.transactions[before]!.data).armor;
    assert.match((await decryptWithGpg(armor, rotated.privateArmored)).toString(), /meet at noon/);
    await assert.rejects(decryptWithGpg(armor, bob.privateArmored), 'the old key must not read it');
  });

  it('counts transactions and recipients on the metrics endpoint', async () => {
    await send(serve, ['bob@example.org', 'gone@example.org']);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const value = (series: string): number => Number(new RegExp(`^${series} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    assert.ok(value('pgpipe_messages_total\\{outcome="delivered"\\}') >= 1, text);
    assert.ok(value('pgpipe_messages_total\\{outcome="partial"\\}') >= 1, text);
    assert.ok(value('pgpipe_recipients_total\\{result="rejected"\\}') >= 1, text);
    assert.equal(value('pgpipe_transactions_in_flight'), 0);
  });

  it('defers every recipient with 4xx when the next hop is down', async () => {
    const dead = await startServe(['--db', cluster.url, '--next', 'unix:/nonexistent/lmtp', '--no-spam-check']);
    try {
      const result = await send(dead, ['bob@example.org', 'dave@example.org']);
      assert.deepEqual(codes(result), [451, 451]);
      assert.match(dead.stderr(), /status=deferred/);
    } finally {
      await dead.stop();
    }
  });

  it('exits 0 on SIGTERM', async () => {
    const short = await startServe(['--db', cluster.url, '--next', next.address, '--no-spam-check']);
    assert.equal(await short.stop('SIGTERM'), 0);
    assert.match(short.stderr(), /serve: stopped/);
  });
});
