// The next-hop client (nodemailer's SMTP/LMTP client) against a real-protocol server (smtp-server, in LMTP and in
// SMTP mode), over a unix socket and loopback TCP: per-recipient answers, SMTP's one reply after DATA for every
// accepted recipient, refusals that defer, faults mid-DATA, timeouts, XFORWARD, SMTPUTF8/8BITMIME/SIZE only when
// offered, and the framing of the forwarded bytes (one message in, exactly one message out).
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createNextHop, type NextHopOptions } from '../../src/adapters/next-hop.js';
import type { XForward } from '../../src/deliver/ports.js';
import { fakeLmtpPerFile, type FakeLmtp, type FakeLmtpOptions } from '../deliver/fake-lmtp.js';

const MESSAGE = Buffer.from('From: a@example.net\r\nSubject: hi\r\n\r\nline \xe9\r\n', 'latin1');
const server = fakeLmtpPerFile();

interface Call {
  recipients?: string[];
  sender?: string;
  payload?: Buffer;
  signal?: AbortSignal;
  xforward?: XForward;
  hop?: Partial<NextHopOptions>;
}

const forward = (fake: FakeLmtp, protocol: 'lmtp' | 'smtp', call: Call = {}) =>
  createNextHop({ address: fake.address, protocol, ...call.hop }).deliver(
    call.payload ?? MESSAGE,
    { sender: call.sender ?? 'a@example.net', recipients: call.recipients ?? ['bob@example.org'] },
    call.signal ?? AbortSignal.timeout(20_000),
    call.xforward === undefined ? undefined : { xforward: call.xforward },
  );

const codes = (result: Awaited<ReturnType<typeof forward>>) =>
  result.kind === 'replied' ? result.replies.map((r) => [r.recipient, r.code, r.enhanced]) : result.reason;

/** Polls until `check` holds (the server's side of a broken connection is noticed asynchronously). */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await sleep(50);
  assert.ok(check(), what);
}

for (const protocol of ['lmtp', 'smtp'] as const) {
  for (const listen of ['unix', 'inet'] as const) {
    it(`${protocol} over ${listen}: 2xx for every recipient; the bytes, BODY=8BITMIME and SIZE arrive`, async () => {
      const fake = await server({ protocol, listen });
      assert.match(fake.address, listen === 'unix' ? /^unix:\// : /^inet:127\.0\.0\.1:\d+$/);
      const result = await forward(fake, protocol, { recipients: ['bob@example.org', 'carol@example.org'] });
      const accepted =
        protocol === 'lmtp'
          ? { code: 250, enhanced: null, text: 'accepted' }
          : { code: 250, enhanced: '2.0.0', text: 'Ok: queued as FAKE1' };
      assert.deepEqual(result, {
        kind: 'replied',
        replies: [
          { recipient: 'bob@example.org', ...accepted },
          { recipient: 'carol@example.org', ...accepted },
        ],
      });
      const [t] = fake.transactions;
      assert.deepEqual(t?.to, ['bob@example.org', 'carol@example.org']);
      assert.deepEqual(t?.data, MESSAGE);
      assert.equal(t?.mailParams.BODY, '8BITMIME');
      assert.equal(t?.mailParams.SIZE, String(MESSAGE.length));
    });
  }
}

describe('per-recipient answers', () => {
  it('LMTP: refused at RCPT TO, and 250 / 452 / 552 after DATA, each with its own code', async () => {
    const fake = await server({
      rcpt: (r) => (r.startsWith('nobody') ? [550, '5.1.1 <nobody@example.org> User unknown'] : null),
      data: (r) =>
        r.startsWith('full') ? [452, '4.2.2 Mailbox is full'] : r.startsWith('over') ? [552, '5.2.2 Quota'] : null,
    });
    const result = await forward(fake, 'lmtp', {
      recipients: ['nobody@example.org', 'ok@example.org', 'full@example.org', 'over@example.org'],
    });
    assert.deepEqual(codes(result), [
      ['nobody@example.org', 550, '5.1.1'],
      ['ok@example.org', 250, null],
      ['full@example.org', 452, '4.2.2'],
      ['over@example.org', 552, '5.2.2'],
    ]);
  });

  it("SMTP: RCPT TO's 550 and 451 stay per recipient; the 250 after DATA is every accepted recipient's", async () => {
    const fake = await server({
      protocol: 'smtp',
      rcpt: (r) =>
        r.startsWith('nobody')
          ? [550, '5.1.1 <nobody@example.org>: Recipient address rejected: User unknown']
          : r.startsWith('later')
            ? [451, '4.3.0 <later@example.org>: Temporary lookup failure']
            : null,
    });
    const result = await forward(fake, 'smtp', {
      recipients: ['nobody@example.org', 'bob@example.org', 'later@example.org', 'carol@example.org'],
    });
    assert.deepEqual(codes(result), [
      ['nobody@example.org', 550, '5.1.1'],
      ['bob@example.org', 250, '2.0.0'],
      ['later@example.org', 451, '4.3.0'],
      ['carol@example.org', 250, '2.0.0'],
    ]);
    assert.deepEqual(
      fake.transactions.map((t) => t.to),
      [['bob@example.org', 'carol@example.org']],
    );
  });

  it("SMTP: a 5xx after DATA is every accepted recipient's, with the next hop's code and text (a bounce)", async () => {
    const fake = await server({
      protocol: 'smtp',
      rcpt: (r) => (r.startsWith('nobody') ? [550, '5.1.1 <nobody@example.org>: User unknown'] : null),
      final: [554, '5.7.1 Message rejected: content policy'],
    });
    const result = await forward(fake, 'smtp', {
      recipients: ['bob@example.org', 'nobody@example.org', 'carol@example.org'],
    });
    assert.deepEqual(result, {
      kind: 'replied',
      replies: [
        { recipient: 'bob@example.org', code: 554, enhanced: '5.7.1', text: 'Message rejected: content policy' },
        { recipient: 'nobody@example.org', code: 550, enhanced: '5.1.1', text: '<nobody@example.org>: User unknown' },
        { recipient: 'carol@example.org', code: 554, enhanced: '5.7.1', text: 'Message rejected: content policy' },
      ],
    });
  });

  it("SMTP: a 4xx after DATA is every accepted recipient's (a deferral), never a 2xx", async () => {
    const fake = await server({ protocol: 'smtp', final: [451, '4.3.0 Error: queue file write error'] });
    const result = await forward(fake, 'smtp', { recipients: ['bob@example.org', 'carol@example.org'] });
    assert.deepEqual(codes(result), [
      ['bob@example.org', 451, '4.3.0'],
      ['carol@example.org', 451, '4.3.0'],
    ]);
  });

  it('every recipient refused at RCPT TO: their answers, and no DATA (both protocols)', async () => {
    for (const protocol of ['lmtp', 'smtp'] as const) {
      const fake = await server({ protocol, rcpt: () => [550, '5.1.1 User unknown'] });
      const result = await forward(fake, protocol, { recipients: ['x@example.org', 'y@example.org'] });
      assert.deepEqual(codes(result), [
        ['x@example.org', 550, '5.1.1'],
        ['y@example.org', 550, '5.1.1'],
      ]);
      assert.equal(fake.transactions.length, 0);
    }
  });
});

describe('session-level refusals and faults: failed (defer), never an answer', () => {
  for (const protocol of ['lmtp', 'smtp'] as const) {
    it(`${protocol}: MAIL FROM refused, with the reply in the reason`, async () => {
      const fake = await server({ protocol, mailFrom: () => [553, '5.7.1 <a@example.net>: Sender address rejected'] });
      const result = await forward(fake, protocol);
      assert.equal(result.kind, 'failed');
      assert.match(
        codes(result) as string,
        new RegExp(`^${protocol.toUpperCase()} transaction MAIL FROM: 553 5\\.7\\.1`),
      );
      assert.equal(fake.transactions.length, 0);
    });

    it(`${protocol}: greeting refused`, async () => {
      const fake = await server({ protocol, greeting: [554, '5.3.2 Service unavailable'] });
      const result = await forward(fake, protocol);
      assert.equal(result.kind, 'failed');
      assert.match(codes(result) as string, /554/);
    });

    it(`${protocol}: the server closes the connection mid-DATA`, async () => {
      const fake = await server({ protocol, dropMidData: true });
      const result = await forward(fake, protocol, { payload: Buffer.alloc(4_000_000, 'x\r\n') });
      assert.equal(result.kind, 'failed');
      assert.match(codes(result) as string, new RegExp(`^${protocol.toUpperCase()} `));
      assert.equal(fake.transactions.length, 0);
      await eventually(() => fake.incomplete() === 1, 'the server saw DATA begin');
    });

    it(`${protocol}: cancelled mid-DATA: failed at once, and the next hop never sees a completed message`, async () => {
      for (const listen of ['unix', 'inet'] as const) {
        const fake = await server({ protocol, listen, stallDataMs: 1500 });
        // Larger than every socket buffer between us (loopback TCP autotunes to a few MB), so the final dot is
        // still ours when the deadline fires.
        const payload = Buffer.alloc(40_000_000, 'abcdefghijklmnopqrstuvwxyz\r\n');
        const started = Date.now();
        const result = await forward(fake, protocol, { payload, signal: AbortSignal.timeout(400) });
        assert.deepEqual(result, { kind: 'failed', reason: `${protocol.toUpperCase()} cancelled` });
        assert.ok(Date.now() - started < 1400, `took ${Date.now() - started} ms`);
        await eventually(() => fake.incomplete() === 1, `${listen}: the server saw the message cut off`);
        assert.equal(fake.transactions.length, 0, `${listen}: no completed message`);
      }
    });
  }

  it('smtp to an LMTP server (EHLO refused, HELO too) and lmtp to an SMTP server (LHLO refused)', async () => {
    const lmtpServer = await server({ protocol: 'lmtp' });
    const smtpServer = await server({ protocol: 'smtp' });
    const ehlo = await forward(lmtpServer, 'smtp');
    const lhlo = await forward(smtpServer, 'lmtp');
    assert.equal(ehlo.kind, 'failed');
    assert.equal(lhlo.kind, 'failed');
    assert.match(codes(lhlo) as string, /LHLO/);
    assert.equal(lmtpServer.transactions.length + smtpServer.transactions.length, 0);
  });

  it('EHLO refused, HELO accepted: failed, no mail sent without extensions over HELO', async () => {
    const fake = await server({ protocol: 'smtp', refuseEhlo: true });
    const result = await forward(fake, 'smtp');
    assert.deepEqual(result, { kind: 'failed', reason: 'SMTP next hop refused EHLO' });
    assert.equal(fake.transactions.length, 0);
  });

  it('connection refused: unix (ENOENT) and inet (ECONNREFUSED), promptly', async () => {
    const started = Date.now();
    const hop = (address: string) =>
      createNextHop({ address, protocol: 'smtp' }).deliver(
        MESSAGE,
        { sender: '', recipients: ['bob@example.org'] },
        AbortSignal.timeout(5000),
      );
    assert.deepEqual(await hop('unix:/nonexistent/smtp'), {
      kind: 'failed',
      reason: 'cannot connect to SMTP /nonexistent/smtp (ENOENT)',
    });
    assert.deepEqual(await hop('inet:127.0.0.1:1'), {
      kind: 'failed',
      reason: 'cannot connect to SMTP 127.0.0.1:1 (ECONNREFUSED)',
    });
    assert.equal((await hop('localhost:25')).kind, 'failed');
    assert.ok(Date.now() - started < 3000);
  });

  it('a server that never greets: failed after greetingMs', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    try {
      const started = Date.now();
      const result = await createNextHop({
        address: `inet:127.0.0.1:${port}`,
        protocol: 'smtp',
        timeouts: { greetingMs: 300 },
      }).deliver(MESSAGE, { sender: '', recipients: ['bob@example.org'] }, AbortSignal.timeout(10_000));
      assert.equal(result.kind, 'failed');
      assert.match(codes(result) as string, /ETIMEDOUT/);
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    } finally {
      silent.close();
    }
  });

  for (const protocol of ['lmtp', 'smtp'] as const) {
    it(`${protocol}: a server that answers DATA's content before our final dot: failed, never its 2xx`, async () => {
      // A scripted server (smtp-server can't be made to misbehave like this): 354, then at once "250" for the
      // message, and it stops reading, so the rest of the message and the final dot stay ours.
      let recipients = 0;
      const hostile = createServer((socket) => {
        socket.write('220 hostile ESMTP\r\n');
        let buffered = '';
        socket.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('latin1');
          for (let end = buffered.indexOf('\r\n'); end >= 0; end = buffered.indexOf('\r\n')) {
            const line = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            if (/^(EHLO|LHLO) /i.test(line)) socket.write('250-hostile\r\n250 PIPELINING\r\n');
            else if (/^RCPT /i.test(line)) ((recipients += 1), socket.write('250 2.1.5 Ok\r\n'));
            else if (/^DATA/i.test(line)) {
              socket.write(`354 go ahead\r\n${'250 2.0.0 Ok: early\r\n'.repeat(protocol === 'lmtp' ? recipients : 1)}`);
              socket.pause();
              return;
            } else socket.write('250 2.0.0 Ok\r\n');
          }
        });
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
      try {
        const port = (hostile.address() as import('node:net').AddressInfo).port;
        const result = await createNextHop({ address: `inet:127.0.0.1:${port}`, protocol }).deliver(
          Buffer.alloc(40_000_000, 'abcdefghijklmnopqrstuvwxyz\r\n'),
          { sender: '', recipients: ['bob@example.org'] },
          AbortSignal.timeout(10_000),
        );
        assert.deepEqual(result, {
          kind: 'failed',
          reason: `${protocol.toUpperCase()} next hop answered before the end of the message`,
        });
      } finally {
        hostile.close();
      }
    });
  }

  it('a server silent after the final dot for longer than socketMs: failed, never 2xx', async () => {
    const fake = await server({ protocol: 'smtp', dataDelayMs: 3000 });
    const result = await forward(fake, 'smtp', { hop: { timeouts: { socketMs: 300 } } });
    assert.equal(result.kind, 'failed');
    assert.match(codes(result) as string, /ETIMEDOUT/);
    assert.equal(fake.transactions.length, 1, 'the next hop had the whole message: a retry may duplicate it');
  });

  it('the connection dropped after the final dot, before the reply: failed (SMTP)', async () => {
    const fake = await server({ protocol: 'smtp', dropAfterData: true });
    const result = await forward(fake, 'smtp');
    assert.equal(result.kind, 'failed');
    assert.equal(fake.transactions.length, 1);
  });
});

describe('extensions only when offered', () => {
  it('SMTP without SMTPUTF8 and a non-ASCII address: failed with the reason, nothing sent', async () => {
    const fake = await server({ protocol: 'smtp', smtputf8: false });
    for (const call of [{ recipients: ['jörg@example.org'] }, { sender: 'jörg@example.net' }]) {
      const result = await forward(fake, 'smtp', call);
      assert.deepEqual(result, {
        kind: 'failed',
        reason: 'SMTP next hop does not offer SMTPUTF8, needed for a non-ASCII address',
      });
    }
    assert.equal(fake.transactions.length, 0);
  });

  it('SMTP with SMTPUTF8: MAIL FROM carries SMTPUTF8 and the address arrives intact', async () => {
    const fake = await server({ protocol: 'smtp', smtputf8: true });
    const result = await forward(fake, 'smtp', { recipients: ['jörg@example.org'], sender: 'zoë@example.net' });
    assert.equal(result.kind, 'replied');
    assert.equal(fake.transactions[0]?.mailParams.SMTPUTF8, true);
    assert.deepEqual(fake.transactions[0]?.to, ['jörg@example.org']);
    assert.equal(fake.transactions[0]?.from, 'zoë@example.net');
  });

  it('no 8BITMIME, no SIZE offered: neither parameter is sent, and 8-bit bytes go unconverted', async () => {
    const fake = await server({ protocol: 'smtp', eightBitMime: false, size: 0 });
    const result = await forward(fake, 'smtp');
    assert.equal(result.kind, 'replied');
    assert.deepEqual(fake.transactions[0]?.mailParams, {});
    assert.deepEqual(fake.transactions[0]?.data, MESSAGE);
  });

  it("a message over the next hop's SIZE limit: failed with both figures, before MAIL FROM", async () => {
    const fake = await server({ protocol: 'smtp', size: 10 });
    const result = await forward(fake, 'smtp');
    assert.deepEqual(result, {
      kind: 'failed',
      reason: `SMTP next hop's SIZE limit is 10 bytes, the message has ${MESSAGE.length}`,
    });
  });

  it('XFORWARD: the given attributes reach a next hop that offers it, a hostile one left out', async () => {
    const fake = await server({ protocol: 'smtp', xforward: true });
    const xforward = {
      ADDR: '192.0.2.7',
      PORT: '50123',
      PROTO: 'ESMTP',
      HELO: 'mx.example.net',
      NAME: 'evil\r\nRSET',
      IDENT: '4Xq1Lz0abcz',
      SOURCE: 'REMOTE',
    };
    const result = await forward(fake, 'smtp', { xforward, recipients: ['bob@example.org', 'carol@example.org'] });
    assert.deepEqual(codes(result), [
      ['bob@example.org', 250, '2.0.0'],
      ['carol@example.org', 250, '2.0.0'],
    ]);
    assert.deepEqual(fake.transactions[0]?.xForward, {
      ADDR: '192.0.2.7',
      PORT: 50123,
      PROTO: 'ESMTP',
      HELO: 'mx.example.net',
      IDENT: '4Xq1Lz0abcz',
      SOURCE: 'REMOTE',
    });
  });

  it('XFORWARD not offered: nothing is sent, the mail goes as usual', async () => {
    const fake = await server({ protocol: 'smtp' });
    const result = await forward(fake, 'smtp', { xforward: { IDENT: 'Q1', ADDR: '192.0.2.7' } });
    assert.equal(result.kind, 'replied');
    assert.deepEqual(fake.transactions[0]?.xForward, {});
  });
});

describe('framing of the forwarded bytes: one message in, exactly one message out', () => {
  // A final dot of its own mid-message with a whole second transaction after it, dot-led lines ("..", "."),
  // a bare LF + "." + bare LF, the mixed CRLF/LF forms of a lone dot, and bare CRs (alone, and before a dot).
  const hostile = Buffer.from(
    [
      'From: a@example.net\r\nSubject: framing\r\n\r\n',
      'before\r\n.\r\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nsmuggled\r\n.\r\n',
      '..two dots\r\n.one dot\r\n',
      'bare lf\n.\nafter bare lf\n',
      'mixed\r\n.\nmixed\n.\r\nmixed\n',
      'bare\rcr\r.\rcr dot\r\n',
      'last\r\n',
    ].join(''),
  );
  // What was meant: the same bytes with each bare LF as CRLF (as Postfix's smtpd reads a bare LF); CRs stay.
  const meant = Buffer.from(hostile.toString('latin1').replace(/(?<!\r)\n/g, '\r\n'), 'latin1');
  const leading = Buffer.from('.\r\nMAIL FROM:<evil@example.com>\r\n.\r\n');

  for (const protocol of ['lmtp', 'smtp'] as const) {
    it(`${protocol}: the next hop stores exactly one message, byte for byte what was meant`, async () => {
      const fake = await server({ protocol });
      const result = await forward(fake, protocol);
      assert.equal(result.kind, 'replied');
      fake.transactions.length = 0;
      const hostileResult = await forward(fake, protocol, { payload: hostile });
      assert.deepEqual(codes(hostileResult), [['bob@example.org', 250, protocol === 'lmtp' ? null : '2.0.0']]);
      assert.equal(fake.transactions.length, 1, 'no second message');
      assert.deepEqual(fake.transactions[0]?.to, ['bob@example.org']);
      assert.equal(fake.transactions[0]?.data.toString('latin1'), meant.toString('latin1'));
      // A message that starts with a lone dot line is not an empty message followed by commands.
      const leadingResult = await forward(fake, protocol, { payload: leading });
      assert.equal(leadingResult.kind, 'replied');
      assert.equal(fake.transactions.length, 2, 'no third message');
      assert.deepEqual(fake.transactions[1]?.data, leading);
    });
  }
});

describe('connection reuse (serve)', () => {
  const deliver = (hop: ReturnType<typeof createNextHop>, recipients: string[], xforward?: XForward) =>
    hop.deliver(
      MESSAGE,
      { sender: 'a@example.net', recipients },
      AbortSignal.timeout(20_000),
      xforward === undefined ? undefined : { xforward },
    );

  for (const protocol of ['lmtp', 'smtp'] as const) {
    it(`${protocol}: consecutive transactions share one connection (RSET between), each answered on its own`, async () => {
      const fake = await server({ protocol, rcpt: (a) => (a === 'gone@example.org' ? [550, '5.1.1 gone'] : null) });
      const hop = createNextHop({ address: fake.address, protocol, reuse: true });
      const first = await deliver(hop, ['bob@example.org']);
      assert.deepEqual(first.kind === 'replied' ? first.replies.map((r) => r.code) : first.reason, [250]);
      const second = await deliver(hop, ['carol@example.org', 'gone@example.org']);
      assert.equal(second.kind, 'replied');
      assert.deepEqual(second.kind === 'replied' ? second.replies.map((r) => r.code) : [], [250, 550]);
      assert.equal(fake.connections(), 1);
      assert.deepEqual(
        fake.transactions.map((t) => t.to),
        [['bob@example.org'], ['carol@example.org']],
      );
    });
  }

  it('an idle connection the server closed is replaced, and nothing of the message is lost', async () => {
    const fake = await server({});
    const hop = createNextHop({ address: fake.address, protocol: 'lmtp', reuse: true });
    assert.equal((await deliver(hop, ['bob@example.org'])).kind, 'replied');
    fake.dropConnections();
    await sleep(100);
    const again = await deliver(hop, ['carol@example.org']);
    assert.deepEqual(codes(again), [['carol@example.org', 250, null]]);
    assert.equal(fake.connections(), 2);
    assert.equal(fake.transactions.length, 2);
  });

  it('a transaction with XFORWARD gets a connection of its own and does not leave it for another', async () => {
    const fake = await server({ protocol: 'smtp', xforward: true });
    const hop = createNextHop({ address: fake.address, protocol: 'smtp', reuse: true });
    await deliver(hop, ['bob@example.org'], { IDENT: 'Q1', ADDR: '192.0.2.1' });
    await deliver(hop, ['bob@example.org'], { IDENT: 'Q2', ADDR: '192.0.2.2' });
    assert.equal(fake.connections(), 2);
    assert.deepEqual(
      fake.transactions.map((t) => t.xForward.IDENT),
      ['Q1', 'Q2'],
    );
  });

  it('without reuse (the pipe modes) every transaction has its own connection', async () => {
    const fake = await server({});
    const hop = createNextHop({ address: fake.address, protocol: 'lmtp' });
    await deliver(hop, ['bob@example.org']);
    await deliver(hop, ['bob@example.org']);
    assert.equal(fake.connections(), 2);
  });
});
