// pgpipe serve with a next hop that misbehaves in ways Dovecot and Postfix rarely do on demand (the fake next hop, a
// real protocol end): one that answers DATA only after serve's deadline, one that drops the connection after DATA
// without answering. Either way serve answers 4xx, never 2xx, so Postfix keeps the message. The slow one shows the
// second way to a duplicate besides a crash: the next hop stored the message, serve did not wait for its word.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFakeLmtp, type FakeLmtp } from '../deliver/fake-lmtp.js';
import { freePort } from '../e2e/free-port.js';
import { startServe, type ServeInstance } from '../e2e/serve-instance.js';
import { PGPIPE_BIN } from '../helpers/run-cli.js';
import { smallMessage, transaction } from './serve-support.js';
import { ALICE, CAROL, startWorld, type FaultWorld } from './support.js';

const DEADLINE_MS = 3000;

describe('pgpipe serve and a misbehaving next hop (fake next hop)', { timeout: 120_000 }, () => {
  let world: FaultWorld;
  before(async () => {
    world = await startWorld();
  });
  after(() => world?.close());

  /** serve --protocol lmtp in front of `sink` for the duration of `fn`. */
  async function withServe(sink: FakeLmtp, fn: (port: number, serve: ServeInstance) => Promise<void>) {
    const port = await freePort();
    const serve = await startServe({
      bin: process.env.PGPIPE_E2E_BIN ?? PGPIPE_BIN,
      protocol: 'lmtp',
      listen: `inet:127.0.0.1:${port}`,
      next: sink.address,
      conf: `database_url = ${world.pg.url}\nspam_check = no\nlog = stderr\ndeadline = ${DEADLINE_MS}\n`,
    });
    try {
      await fn(port, serve);
    } finally {
      await serve.stop();
      await sink.close();
    }
  }

  it('next hop answers DATA past the deadline: 4xx, never 2xx; it has the message (retry: duplicate)', async () => {
    const sink = await startFakeLmtp({ dataDelayMs: DEADLINE_MS + 3000 });
    await withServe(sink, async (port, serve) => {
      const marker = `SLOWHOP${randomBytes(5).toString('hex')}`;
      const started = Date.now();
      const replies = await transaction(port, [ALICE, CAROL], smallMessage(CAROL, marker), { lmtp: true });
      const ms = Date.now() - started;
      const finals = replies.slice(-2);
      process.stderr.write(`serve next hop: slow past the deadline: ${finals.join(' | ')} after ${ms} ms\n`);
      for (const reply of finals) assert.match(reply, /^4\d\d 4\.\d+\.\d+ /);
      assert.ok(ms < DEADLINE_MS + 2500, `answered near the deadline (${ms} ms)`);
      // One transaction per copy (alice's encrypted, carol's as sent), its Message-ID outside in both.
      const stored = sink.transactions.filter((t) => t.data.includes(marker)).length;
      process.stderr.write(`serve next hop: the slow next hop holds ${stored} cop${stored === 1 ? 'y' : 'ies'}\n`);
      assert.ok(stored >= 1, 'the next hop has it');
      assert.ok(serve.running());
    });
  });

  it('a next hop that drops the connection after DATA: 4xx for every recipient', async () => {
    const sink = await startFakeLmtp({ dropAfterData: true });
    await withServe(sink, async (port) => {
      const marker = `DROPHOP${randomBytes(5).toString('hex')}`;
      const replies = await transaction(port, [ALICE, CAROL], smallMessage(CAROL, marker), { lmtp: true });
      for (const reply of replies.slice(-2)) assert.match(reply, /^4\d\d 4\.\d+\.\d+ /);
    });
  });
});
