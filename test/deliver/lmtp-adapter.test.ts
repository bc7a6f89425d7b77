// The Lmtp port (nodemailer's LMTP client) against a real-protocol LMTP server: per-recipient answers at RCPT TO
// and after DATA, the envelope as given (null sender, quoted local parts), 8BITMIME, the bytes as stored, and the
// faults: no server, a server slower than our deadline, a connection dropped after DATA.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createLmtp, parseLmtpAddress } from '../../src/adapters/lmtp.js';
import { fakeLmtpPerFile, type FakeLmtp, type FakeLmtpOptions } from './fake-lmtp.js';

const MESSAGE = Buffer.from('From: a@example.net\nSubject: hi\n\n.leading dot\nline two \xe9\n', 'latin1');
const server = fakeLmtpPerFile();

const deliver = (
  address: string,
  recipients: string[],
  sender = 'a@example.net',
  signal = AbortSignal.timeout(20_000),
  payload = MESSAGE,
) => createLmtp({ lmtp: address }).deliver(payload, { sender, recipients }, signal);

describe('LMTP adapter', () => {
  it('parses unix:/path and inet:host:port only', () => {
    assert.deepEqual(parseLmtpAddress('unix:/run/dovecot/lmtp-pgpipe'), { path: '/run/dovecot/lmtp-pgpipe' });
    assert.deepEqual(parseLmtpAddress('inet:127.0.0.1:24'), { host: '127.0.0.1', port: 24 });
    for (const bad of ['unix:relative', '127.0.0.1:24', 'inet:host', 'inet:h:70000', 'inet:h:0', ''])
      assert.equal(parseLmtpAddress(bad), null, bad);
  });

  it('2xx for every recipient; the bytes arrive as given (CRLF, dot-stuffing undone), with BODY=8BITMIME and SIZE', async () => {
    const lmtp = await server();
    const result = await deliver(lmtp.address, ['bob@example.org', 'carol@example.org']);
    assert.deepEqual(result, {
      kind: 'replied',
      replies: [
        { recipient: 'bob@example.org', code: 250, enhanced: null, text: 'accepted' },
        { recipient: 'carol@example.org', code: 250, enhanced: null, text: 'accepted' },
      ],
    });
    const [t] = lmtp.transactions;
    assert.equal(t?.from, 'a@example.net');
    assert.deepEqual(t?.to, ['bob@example.org', 'carol@example.org']);
    assert.equal(t?.data.toString('latin1'), MESSAGE.toString('latin1').replaceAll('\n', '\r\n'));
    assert.equal(t?.mailParams.BODY, '8BITMIME');
    assert.equal(t?.mailParams.SIZE, String(MESSAGE.length));
  });

  it('a 7-bit message goes without BODY=8BITMIME; the null sender is MAIL FROM:<>; a quoted local part stays quoted', async () => {
    const lmtp = await server();
    const result = await deliver(
      lmtp.address,
      ['"john.doe"@example.org'],
      '',
      undefined,
      Buffer.from('Subject: x\n\nascii\n'),
    );
    assert.equal(result.kind === 'replied' && result.replies[0]?.code, 250);
    assert.equal(lmtp.transactions[0]?.from, '');
    assert.deepEqual(lmtp.transactions[0]?.to, ['"john.doe"@example.org']);
    assert.equal(lmtp.transactions[0]?.mailParams.BODY, undefined);
  });

  it('an internationalised address uses SMTPUTF8 when the server offers it', async () => {
    const lmtp = await server({ smtputf8: true });
    const result = await deliver(lmtp.address, ['jörg@example.org']);
    assert.equal(result.kind === 'replied' && result.replies[0]?.code, 250);
    assert.deepEqual(lmtp.transactions[0]?.to, ['jörg@example.org']);
    assert.equal(lmtp.transactions[0]?.mailParams.SMTPUTF8, true);
  });

  it("per-recipient answers after DATA: 250, 452 4.2.2 and 552 5.2.2, each with the server's own code and text", async () => {
    const lmtp = await server({
      data: (rcpt) =>
        rcpt.startsWith('full')
          ? [452, '4.2.2 <full@example.org> Mailbox is full']
          : rcpt.startsWith('over')
            ? [552, '5.2.2 <over@example.org> Quota exceeded (mailbox for user is full)']
            : null,
    });
    const result = await deliver(lmtp.address, ['ok@example.org', 'full@example.org', 'over@example.org']);
    assert.deepEqual(result, {
      kind: 'replied',
      replies: [
        { recipient: 'ok@example.org', code: 250, enhanced: null, text: 'accepted' },
        { recipient: 'full@example.org', code: 452, enhanced: '4.2.2', text: '<full@example.org> Mailbox is full' },
        {
          recipient: 'over@example.org',
          code: 552,
          enhanced: '5.2.2',
          text: '<over@example.org> Quota exceeded (mailbox for user is full)',
        },
      ],
    });
  });

  it('refused at RCPT TO: one recipient (the others still get DATA), or all of them (no DATA at all)', async () => {
    const lmtp = await server({
      rcpt: (rcpt) =>
        rcpt.startsWith('nobody') ? [550, "5.1.1 <nobody@example.org> User doesn't exist: nobody@example.org"] : null,
    });
    const some = await deliver(lmtp.address, ['nobody@example.org', 'bob@example.org']);
    assert.deepEqual(some.kind === 'replied' && some.replies.map((r) => [r.code, r.enhanced]), [
      [550, '5.1.1'],
      [250, null],
    ]);
    assert.deepEqual(
      lmtp.transactions.map((t) => t.to),
      [['bob@example.org']],
    );
    const all = await deliver(lmtp.address, ['nobody@example.org']);
    assert.deepEqual(all, {
      kind: 'replied',
      replies: [
        {
          recipient: 'nobody@example.org',
          code: 550,
          enhanced: '5.1.1',
          text: "<nobody@example.org> User doesn't exist: nobody@example.org",
        },
      ],
    });
    assert.equal(lmtp.transactions.length, 1, 'no DATA when every recipient was refused');
  });

  it('a temporary refusal at RCPT TO (451 4.3.0) is a per-recipient 4xx', async () => {
    const lmtp = await server({ rcpt: () => [451, '4.3.0 <bob@example.org> Temporary user lookup failure'] });
    const result = await deliver(lmtp.address, ['bob@example.org']);
    assert.deepEqual(result.kind === 'replied' && result.replies.map((r) => [r.code, r.enhanced]), [[451, '4.3.0']]);
  });

  it('no server: failed with the address and errno, promptly', async () => {
    const started = Date.now();
    const result = await deliver('unix:/nonexistent/lmtp', ['bob@example.org']);
    assert.deepEqual(result, { kind: 'failed', reason: 'cannot connect to LMTP /nonexistent/lmtp (ENOENT)' });
    const refused = await deliver('inet:127.0.0.1:1', ['bob@example.org']);
    assert.equal(refused.kind, 'failed');
    assert.match(refused.kind === 'failed' ? refused.reason : '', /ECONNREFUSED/);
    assert.ok(Date.now() - started < 5000);
  });

  it('a server slower than our deadline: failed (cancelled) when the signal fires, the connection closed', async () => {
    const lmtp = await server({ dataDelayMs: 10_000 });
    const started = Date.now();
    const result = await deliver(lmtp.address, ['bob@example.org'], undefined, AbortSignal.timeout(500));
    assert.deepEqual(result, { kind: 'failed', reason: 'LMTP cancelled' });
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });

  it('the connection dropped after DATA, before any answer: failed, never delivered', async () => {
    const lmtp = await server({ dropAfterData: true });
    const result = await deliver(lmtp.address, ['bob@example.org']);
    assert.equal(result.kind, 'failed');
    assert.match(result.kind === 'failed' ? result.reason : '', /^LMTP /);
    assert.equal(lmtp.transactions.length, 1, 'the server did receive the whole message');
  });

  it('no address configured: failed, without connecting anywhere', async () => {
    const result = await createLmtp({}).deliver(
      MESSAGE,
      { sender: '', recipients: ['bob@example.org'] },
      AbortSignal.timeout(1000),
    );
    assert.equal(result.kind, 'failed');
  });
});
