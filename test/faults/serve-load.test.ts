// pgpipe serve under more than it may take, straight at its port (no Postfix): 1,000 sessions at once against
// serve_max_clients 100 (the extra ones get 421 4.3.2, it does not crash, every accepted message reaches the next
// hop), and 20 concurrent 20 MB messages against serve_memory_limit 200 MB (some get 452 4.3.1, the rest are
// delivered, the resident set stays bounded). The figures go to stderr for the note.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ALICE, CAROL } from './support.js';
import { rawSession, smallMessage, startServeWorld, transaction, type ServeWorld } from './serve-support.js';

const PROTOCOL = 'lmtp' as 'lmtp' | 'smtp';
const lmtp = PROTOCOL === 'lmtp';
const MAX_CLIENTS = 100;
const MEMORY_LIMIT = 200 * 1024 * 1024;
const MB = 1024 * 1024;

describe('pgpipe serve under load (fake next hop)', () => {
  let w: ServeWorld;
  before(
    async () => {
      w = await startServeWorld({
        protocol: PROTOCOL,
        conf:
          `serve_max_clients = ${MAX_CLIENTS}\nserve_memory_limit = ${MEMORY_LIMIT}\n` +
          'message_size_limit = 40000000\ndeadline = 120000\n',
      });
    },
    { timeout: 120_000 },
  );
  after(() => w?.close(), { timeout: 60_000 });

  it(
    `1,000 sessions, serve_max_clients ${MAX_CLIENTS}: 421 4.3.2 for the extra, every accepted one delivered`,
    { timeout: 300_000 },
    async () => {
      const started = Date.now();
      const tag = randomBytes(4).toString('hex');
      // Every session connects first and waits for its greeting; only then do the accepted ones start their
      // transaction, so that all 1,000 are open at once.
      const sessions = await Promise.all(Array.from({ length: 1000 }, () => rawSession(w.port)));
      const greetings = await Promise.all(sessions.map((s) => s.reply(60_000).catch((e: Error) => `ERR ${e.message}`)));
      const connectedAt = Date.now() - started;
      const busy = greetings.filter((g) => g.startsWith('421'));
      const greeted = greetings.filter((g) => g.startsWith('220'));
      for (const g of busy) assert.match(g, /^421 4\.3\.2 /);
      assert.deepEqual(
        greetings.filter((g) => !g.startsWith('421') && !g.startsWith('220')),
        [],
        'every session got a greeting or 421',
      );
      const outcomes = await Promise.all(
        sessions.map(async (s, i) => {
          if (!greetings[i]?.startsWith('220')) {
            s.destroy();
            return 'busy';
          }
          const marker = `L${tag}n${i}`;
          try {
            s.write(`${lmtp ? 'LHLO' : 'EHLO'} load.test\r\n`);
            assert.match(await s.reply(60_000), /^250/);
            s.write(`MAIL FROM:<sender@example.org>\r\nRCPT TO:<${i % 2 === 0 ? ALICE : CAROL}>\r\nDATA\r\n`);
            for (const code of ['250', '250', '354']) assert.ok((await s.reply(60_000)).startsWith(code));
            s.write(`${smallMessage(i % 2 === 0 ? ALICE : CAROL, marker)}.\r\n`);
            const final = await s.reply(120_000);
            s.write('QUIT\r\n');
            return final.startsWith('250') ? `ok ${marker}` : `refused ${final}`;
          } finally {
            s.destroy();
          }
        }),
      );
      const delivered = outcomes.filter((o) => o.startsWith('ok ')).map((o) => o.slice(3));
      const inSink = new Set(
        w.sink.transactions.flatMap((t) => {
          const m = /<(L[0-9a-f]+n\d+)@example\.org>/.exec(t.data.toString('latin1'));
          return m === null ? [] : [m[1] as string];
        }),
      );
      process.stderr.write(
        `serve load: 1000 sessions: ${greeted.length} greeted, ${busy.length} got 421 4.3.2, ` +
          `${delivered.length} delivered (all connected in ${connectedAt} ms, done in ${Date.now() - started} ms); ` +
          `peak RSS ${Math.round(w.serve.memory().peak / MB)} MB\n`,
      );
      assert.ok(busy.length > 0, 'the limit refused some');
      assert.ok(greeted.length >= MAX_CLIENTS / 2, `most of the limit was used (${greeted.length})`);
      assert.deepEqual(
        outcomes.filter((o) => o.startsWith('refused')),
        [],
      );
      assert.equal(delivered.length, greeted.length, 'every greeted session delivered');
      for (const marker of delivered) assert.ok(inSink.has(marker), `${marker} reached the next hop`);
      assert.ok(w.serve.running(), 'serve is still running');
      // And it still serves.
      const after = await transaction(w.port, [CAROL], smallMessage(CAROL, `L${tag}after`), { lmtp });
      assert.match(after.at(-1) ?? '', /^250/);
    },
  );

  it(
    '20 concurrent 20 MB messages, serve_memory_limit 200 MB: some 452 4.3.1, the rest delivered, RSS bounded',
    { timeout: 600_000 },
    async () => {
      const tag = randomBytes(4).toString('hex');
      const line = `${'x'.repeat(76)}\r\n`;
      const body = line.repeat(Math.ceil((20 * MB) / line.length));
      const before = w.serve.memory();
      const started = Date.now();
      let peakSampled = 0;
      const sampler = setInterval(() => {
        if (w.serve.running()) peakSampled = Math.max(peakSampled, w.serve.memory().rss);
      }, 100);
      const results = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const marker = `M${tag}n${i}`;
          // Half declare SIZE (as Postfix does): those can be refused at MAIL FROM, before they are sent.
          const replies = await transaction(w.port, [i % 2 === 0 ? ALICE : CAROL], smallMessage(ALICE, marker) + body, {
            lmtp,
            ...(i % 2 === 0 ? { size: body.length + 200 } : {}),
          });
          return { marker, replies };
        }),
      ).finally(() => clearInterval(sampler));
      const after = w.serve.memory();
      const accepted = results.filter((r) => r.replies.at(-1)?.startsWith('250'));
      const overBudget = results.filter((r) => r.replies.some((x) => /^452 4\.3\.1 /.test(x)));
      const other = results.filter((r) => !accepted.includes(r) && !overBudget.includes(r));
      process.stderr.write(
        `serve memory: 20 x 20 MB, limit ${MEMORY_LIMIT / MB} MB: ${accepted.length} delivered, ` +
          `${overBudget.length} got 452 4.3.1 ` +
          `(${overBudget.filter((r) => r.replies.length <= 3).length} at MAIL FROM); ` +
          `RSS before ${Math.round(before.rss / MB)} MB, peak ${Math.round(after.peak / MB)} MB (VmHWM), ` +
          `sampled peak ${Math.round(peakSampled / MB)} MB; ${Date.now() - started} ms\n`,
      );
      assert.deepEqual(
        other.map((r) => r.replies.at(-1)),
        [],
        'every message was delivered or got 452 4.3.1',
      );
      assert.ok(overBudget.length > 0, 'the budget refused some');
      assert.ok(accepted.length > 0, 'the budget let some through');
      for (const r of accepted) {
        assert.ok(
          w.sink.transactions.some((t) => t.data.includes(r.marker)),
          `${r.marker} reached the next hop`,
        );
      }
      // Unbounded, 20 messages of 20 MB with their armored copies would take well over 1 GB.
      assert.ok(after.peak < 900 * MB, `peak RSS ${Math.round(after.peak / MB)} MB`);
      assert.ok(w.serve.running());
    },
  );
});
