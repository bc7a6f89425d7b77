// Hostile and broken SMTP/LMTP clients straight at pgpipe serve (its listener is meant for Postfix alone, but a
// local process or a misconfiguration can reach it): huge command lines, pipelining floods, bare LF / bare CR in
// DATA and the "SMTP smuggling" end-of-data look-alikes, early disconnects mid-DATA, a client too slow to finish.
// Whatever comes, serve stays up, forwards at most the one message the client really sent (with any smuggled
// command text as content, never as a second transaction at the next hop), and never hangs on a slow client.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CAROL } from './support.js';
import {
  rawSession,
  smallMessage,
  startServeWorld,
  transaction,
  type RawSession,
  type ServeWorld,
} from './serve-support.js';

const DEADLINE_MS = 4000;
const MB = 1024 * 1024;
const SMUGGLED_SENDER = 'smuggled@evil.test';

// Every case against the SMTP front end (the content filter, what a hostile local client is likelier to reach);
// the DATA framing cases against the LMTP one too (same parser, other mode).
for (const PROTOCOL of ['smtp', 'lmtp'] as const) {
  const lmtp = PROTOCOL === 'lmtp';
  const HELLO = lmtp ? 'LHLO' : 'EHLO';
  const all = lmtp ? 'the SMTP run covers it' : false;
  describe(`pgpipe serve (${PROTOCOL}) and hostile clients (fake next hop)`, { timeout: 120_000 }, () => {
    let w: ServeWorld;
    before(
      async () => {
        w = await startServeWorld({ protocol: PROTOCOL, conf: `deadline = ${DEADLINE_MS}\n`, wire: true });
      },
      { timeout: 120_000 },
    );
    after(() => w?.close(), { timeout: 60_000 });

    /** A session past the greeting and hello. */
    async function greeted(): Promise<RawSession> {
      const s = await rawSession(w.port);
      assert.match(await s.reply(), /^220 /);
      s.write(`${HELLO} hostile.test\r\n`);
      assert.match(await s.reply(), /^250/);
      return s;
    }
    const forwarded = (marker: string) => w.sink.transactions.filter((t) => t.data.includes(marker));
    const stillServes = async (): Promise<void> => {
      assert.ok(w.serve.running(), 'serve is running');
      const marker = `OK${randomBytes(5).toString('hex')}`;
      const replies = await transaction(w.port, [CAROL], smallMessage(CAROL, marker), { lmtp });
      assert.match(replies.at(-1) ?? '', /^250/, replies.join(' | '));
      assert.equal(forwarded(marker).length, 1);
    };

    it(
      'a 1 MB command line and a 32 MB line with no end: refused or cut off, memory stays bounded',
      { skip: all },
      async () => {
        const before = w.serve.memory().rss;
        const s = await greeted();
        s.write(`NOOP ${'A'.repeat(MB)}\r\n`);
        const reply = await s.reply().catch((e: Error) => `closed: ${e.message.slice(0, 80)}`);
        assert.doesNotMatch(reply, /^2/, 'a 1 MB command line is not accepted');
        s.destroy();
        const t = await rawSession(w.port);
        await t.reply();
        const chunk = Buffer.alloc(MB, 'B');
        const cut = t.closed(60_000);
        let closed = false;
        void cut.then((c) => (closed = c));
        for (let i = 0; i < 32 && !closed && !t.socket.destroyed; i++) {
          if (!t.socket.write(chunk)) await Promise.race([new Promise((r) => t.socket.once('drain', r)), cut]);
        }
        await new Promise((r) => setTimeout(r, 500));
        const grown = w.serve.memory().rss - before;
        process.stderr.write(`serve hostile: RSS grew ${Math.round(grown / MB)} MB after a 32 MB line without LF\n`);
        t.destroy();
        assert.ok(closed || t.lines().some((l) => /^[45]\d\d /.test(l)), 'the endless line was refused');
        assert.ok(grown < 64 * MB, `RSS grew ${Math.round(grown / MB)} MB`);
        await stillServes();
      },
    );

    it(
      'a pipelining flood (20,000 commands in one write) gets its replies in order, or is cut off; serve stays up',
      { skip: all },
      async () => {
        const s = await greeted();
        s.write('RSET\r\nNOOP\r\n'.repeat(10_000));
        let answered = 0;
        for (; answered < 20_000; answered++) {
          const r = await s.reply(20_000).catch(() => null);
          if (r === null) break;
          assert.match(r, answered % 2 === 0 ? /^250/ : /^250/);
        }
        process.stderr.write(`serve hostile: pipelining flood: ${answered} of 20000 commands answered\n`);
        s.destroy();
        await stillServes();
      },
    );

    it('a whole pipelined transaction in one write (MAIL, RCPT, DATA, body, dot, QUIT) is delivered once', async () => {
      const s = await rawSession(w.port);
      const marker = `PIPE${randomBytes(5).toString('hex')}`;
      await s.reply();
      s.write(
        `${HELLO} p.test\r\nMAIL FROM:<sender@example.org>\r\nRCPT TO:<${CAROL}>\r\nDATA\r\n` +
          `${smallMessage(CAROL, marker)}.\r\nQUIT\r\n`,
      );
      const replies: string[] = [];
      for (let i = 0; i < 6; i++) replies.push(await s.reply().catch((e: Error) => `closed ${e.message}`));
      s.destroy();
      assert.match(replies[4] ?? '', /^250/, replies.join(' | '));
      assert.equal(forwarded(marker).length, 1);
    });

    for (const [name, sequence] of [
      ['\\n.\\n', '\n.\n'],
      ['\\r.\\r', '\r.\r'],
      ['\\n.\\r\\n', '\n.\r\n'],
      ['\\r\\n.\\n', '\r\n.\n'],
      ['\\r.\\r\\n', '\r.\r\n'],
    ] as const) {
      it(`smuggling with ${name}: one message at the next hop, smuggled commands as content`, async () => {
        const marker = `SMUG${randomBytes(5).toString('hex')}`;
        const s = await greeted();
        s.write(`MAIL FROM:<sender@example.org>\r\nRCPT TO:<${CAROL}>\r\nDATA\r\n`);
        for (const code of ['250', '250', '354']) assert.ok((await s.reply()).startsWith(code));
        s.write(
          `From: sender@example.org\r\nSubject: ${marker}\r\n\r\nbefore${sequence}` +
            `MAIL FROM:<${SMUGGLED_SENDER}>\r\nRCPT TO:<${CAROL}>\r\nDATA\r\nsmuggled ${marker}\r\n.\r\n`,
        );
        const replies = [await s.reply()];
        s.write('QUIT\r\n');
        replies.push(await s.reply().catch(() => 'closed'));
        s.destroy();
        await new Promise((r) => setTimeout(r, 300));
        const copies = forwarded(marker);
        assert.equal(copies.length, 1, `one transaction at the next hop (replies: ${replies.join(' | ')})`);
        assert.match(replies[0] ?? '', /^250/);
        assert.match(replies[1] ?? '', /^221/, 'no second reply: the smuggled DATA was not a command');
        const data = copies[0]?.data.toString('latin1') ?? '';
        assert.ok(data.includes(`MAIL FROM:<${SMUGGLED_SENDER}>`), 'the smuggled text is content');
        assert.ok(data.includes(`smuggled ${marker}`));
        assert.equal(copies[0]?.from, 'sender@example.org');
        assert.deepEqual(
          w.sink.transactions.filter((t) => t.from === SMUGGLED_SENDER),
          [],
          'never a transaction from the smuggled sender',
        );
        // What serve sent, read as a lenient next hop reads it (Postfix 3.7's smtpd: a line ends at LF, a preceding CR
        // dropped; a line "." ends DATA): exactly one end of DATA, after the smuggled text.
        const session = w.wire?.clientBytes().find((b) => b.includes(marker));
        assert.ok(session, 'the forwarding session was recorded');
        const lines = session
          .toString('latin1')
          .split('\n')
          .map((l) => l.replace(/\r$/, ''));
        // serve reuses its next-hop connections: this message's transaction is the DATA before the marker, up to
        // the next transaction's MAIL FROM (the smuggled one is content, after the DATA line, never a command).
        const at = lines.findIndex((l) => l.includes(`smuggled ${marker}`));
        const start = lines.slice(0, at).lastIndexOf('DATA');
        const stop = lines.findIndex((l, i) => i > at && /^(RSET|QUIT)$/.test(l));
        const ends = lines
          .map((l, i) => (l === '.' && i > start && (stop === -1 || i < stop) ? i : -1))
          .filter((i) => i !== -1);
        assert.equal(ends.length, 1, 'one end of DATA on the wire, as a bare-LF-tolerant server sees it');
        assert.ok(lines.findIndex((l) => l.includes(`smuggled ${marker}`)) < (ends[0] as number));
      });
    }

    it(
      'a client that disconnects in the middle of DATA: nothing is forwarded, nothing held',
      { skip: all },
      async () => {
        const marker = `EARLY${randomBytes(5).toString('hex')}`;
        const s = await greeted();
        s.write(`MAIL FROM:<sender@example.org>\r\nRCPT TO:<${CAROL}>\r\nDATA\r\n`);
        for (const code of ['250', '250', '354']) assert.ok((await s.reply()).startsWith(code));
        s.write(`${smallMessage(CAROL, marker)}${'half of the body\r\n'.repeat(1000)}`);
        await new Promise((r) => setTimeout(r, 200));
        s.destroy();
        await new Promise((r) => setTimeout(r, 1500));
        assert.deepEqual(forwarded(marker), []);
        await stillServes();
      },
    );

    // smtp-server's only timer is socketTimeout (inactivity, 60 s by default): a client that sends a byte every few
    // seconds would hold a connection slot forever. serve bounds the whole DATA by the deadline and then 421s.
    it(
      `a client too slow to finish DATA gets a 4xx or is cut off near the deadline (${DEADLINE_MS} ms), no hang`,
      lmtp ? { skip: all } : {},
      async () => {
        const marker = `SLOW${randomBytes(5).toString('hex')}`;
        const s = await greeted();
        s.write(`MAIL FROM:<sender@example.org>\r\nRCPT TO:<${CAROL}>\r\nDATA\r\n`);
        for (const code of ['250', '250', '354']) assert.ok((await s.reply()).startsWith(code));
        s.write(smallMessage(CAROL, marker));
        const started = Date.now();
        // One byte every 200 ms: never idle long enough for an inactivity timeout, never done.
        const trickle = setInterval(() => {
          if (!s.socket.destroyed) s.socket.write('x');
        }, 200);
        const limit = DEADLINE_MS * 4;
        const outcome = await Promise.race([
          s.reply(limit).then(
            (r) => `reply ${r}`,
            (e: Error) => (/closed/.test(e.message) ? 'closed' : 'none'),
          ),
          s.closed(limit).then((closed) => (closed ? 'closed' : 'none')),
        ]);
        clearInterval(trickle);
        const ms = Date.now() - started;
        s.destroy();
        process.stderr.write(`serve hostile: slow client: ${outcome} after ${ms} ms\n`);
        assert.notEqual(outcome, 'none', `still waiting after ${ms} ms`);
        if (outcome.startsWith('reply')) assert.match(outcome, /^reply 421 4\.4\.2 /);
        assert.ok(ms < DEADLINE_MS * 2, `cut off only after ${ms} ms`);
        assert.deepEqual(forwarded(marker), []);
        await stillServes();
      },
    );
  });
}
