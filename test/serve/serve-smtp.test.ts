// pgpipe serve in SMTP mode (the after-queue content filter) against a real PostgreSQL and an SMTP next hop standing
// in for the re-injection smtpd: one answer per transaction, the next hop's own final reply passed on, Postfix's
// XFORWARD (queue id, original client) carried to the next hop and into the log line.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createNextHop } from '../../src/adapters/next-hop.js';
import type { LmtpResult, XForward } from '../../src/deliver/ports.js';
import { startFakeLmtp, type FakeLmtp } from '../deliver/fake-lmtp.js';
import { decryptWithGpg, parsePgpMime } from '../helpers/decrypt.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { seedStore } from '../helpers/seed.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

const MESSAGE = Buffer.from(
  'From: Alice <alice@example.net>\r\nTo: bob@example.org\r\nSubject: secret plans\r\n\r\nmeet at noon\r\n',
);
const ORIGIN: XForward = { NAME: 'mail.example.net', ADDR: '192.0.2.7', PROTO: 'ESMTP', HELO: 'mail.example.net' };

function send(serve: ServeProcess, recipients: string[], ident = '4Zq1Lx2abc'): Promise<LmtpResult> {
  const smtp = createNextHop({ address: serve.address, protocol: 'smtp' });
  const envelope = { sender: 'alice@example.net', recipients };
  return smtp.deliver(MESSAGE, envelope, AbortSignal.timeout(30_000), { xforward: { ...ORIGIN, IDENT: ident } });
}
const codes = (result: LmtpResult): number[] => (result.kind === 'replied' ? result.replies.map((r) => r.code) : []);

describe('pgpipe serve --protocol smtp', () => {
  let cluster: PgCluster;
  let bob: TestKey;
  let next: FakeLmtp;
  let serve: ServeProcess;

  before(async () => {
    [cluster, bob] = await Promise.all([startPostgres(), makeKey({ kind: 'curve25519', email: 'bob@example.org' })]);
    await seedStore({ databaseUrl: cluster.url }, [{ email: 'bob@example.org', pgpkey: bob.publicArmored }]);
    next = await startFakeLmtp({
      protocol: 'smtp',
      listen: 'inet',
      xforward: true,
      rcpt: (address) => (address === 'gone@example.org' ? [550, '5.1.1 <gone@example.org> unknown'] : null),
    });
    serve = await startServe(['--protocol', 'smtp', '--db', cluster.url, '--next', next.address, '--no-spam-check']);
  });
  after(async () => {
    await serve?.stop();
    await next?.close();
    await cluster?.stop();
  });

  it('encrypts, hands on with the original client in XFORWARD, and answers 250 once', async () => {
    const before = next.transactions.length;
    const result = await send(serve, ['bob@example.org', 'carol@example.org']);
    assert.deepEqual(codes(result), [250, 250]);
    const copies = next.transactions.slice(before);
    assert.equal(copies.length, 2, 'one copy for the keyed recipient, one as sent');
    const encrypted = copies.find((t) => t.to.includes('bob@example.org'));
    assert.ok(encrypted !== undefined);
    assert.doesNotMatch(encrypted.data.toString(), /meet at noon/);
    const plain = await decryptWithGpg(parsePgpMime(encrypted.data).armor, bob.privateArmored);
    assert.match(plain.toString(), /meet at noon/);
    assert.equal(encrypted.xForward.IDENT, '4Zq1Lx2abc');
    assert.equal(encrypted.xForward.ADDR, '192.0.2.7');
    assert.match(serve.stderr(), /queue_id=4Zq1Lx2abc status=sent rcpts=2/);
  });

  it("one recipient refused by the next hop bounces the transaction with the next hop's code", async () => {
    const result = await send(serve, ['gone@example.org']);
    assert.equal(result.kind, 'replied');
    const [reply] = result.kind === 'replied' ? result.replies : [];
    assert.equal(reply?.code, 550);
    assert.equal(reply?.enhanced, '5.1.1');
  });

  it('a deferral for any recipient defers the whole transaction', async () => {
    const down = await startServe(['--protocol', 'smtp', '--db', cluster.url, '--next', 'inet:127.0.0.1:1']);
    try {
      const result = await send(down, ['bob@example.org', 'carol@example.org']);
      assert.ok(
        codes(result).every((code) => code === 451),
        JSON.stringify(result),
      );
    } finally {
      await down.stop();
    }
  });
});
