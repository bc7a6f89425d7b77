// The Postfix side of both `pgpipe serve` wirings, with protocol stand-ins (smtp-server) where serve would be: what
// the harness configures (test/e2e/postfix-instance.ts `serve`) must carry mail the way FILTER_README and the
// lmtp(8) transport say, independently of serve itself. The content filter: a global content_filter sends SMTP
// inbound and local sendmail (pickup) to the filter with XFORWARD; Postfix's own bounces get there only through the
// harness's internal_mail_filter_classes = bounce and header_checks FILTER (bounce(8) skips content_filter: this is
// the proof of the fix serve-cases.ts's todo asks setup for); what the filter hands to the re-injection smtpd is
// delivered once, not filtered again (no loop). The delivery proxy: every virtual mailbox goes to the LMTP
// listener, and its per-recipient replies decide (2xx delivered, 5xx bounced, 4xx deferred).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startFakeLmtp, type FakeLmtp } from '../deliver/fake-lmtp.js';
import { freePort } from './free-port.js';
import { startPostfix, waitFor, type PostfixInstance } from './postfix-instance.js';
import { queueIdOf, sendMail } from './smtp-client.js';

const DOMAIN = 'wiring.test';
const skipReason = ((): string | false => {
  if (process.env.CI === 'true') return false;
  if (process.getuid?.() !== 0) return 'needs root (Postfix instance)';
  return existsSync('/usr/sbin/postfix') ? false : 'postfix not installed';
})();

const message = (to: string, marker: string): string =>
  `From: alice@sender.test\nTo: ${to}\nSubject: wiring ${marker}\nMessage-ID: <${marker}@sender.test>\n\n${marker}\n`;
const fresh = (): string => `W${randomBytes(6).toString('hex')}`;

describe('serve wirings, Postfix side (stand-ins where pgpipe serve goes)', { skip: skipReason }, () => {
  describe('after-queue content filter (global content_filter, re-injection smtpd)', () => {
    let postfix: PostfixInstance;
    let filter: FakeLmtp;
    let port: number;
    let reinjectPort: number;
    const log = (): string => postfix.maillog();

    before(async () => {
      [port, reinjectPort] = await Promise.all([freePort(), freePort()]);
      // The stand-in filter passes every message on unchanged to the re-injection smtpd, as serve will.
      filter = await startFakeLmtp({ protocol: 'smtp', listen: 'inet', xforward: true });
      const filterPort = Number(filter.address.split(':').at(-1));
      postfix = await startPostfix({
        domain: DOMAIN,
        mailboxes: ['bob', 'dave'],
        listeners: [{ port }],
        pgpipeBin: '/bin/false',
        pgpipeConf: '',
        serve: { protocol: 'smtp', filterPort, reinjectPort, global: true },
        transports: { 'gone.test': 'error:5.1.2 gone.test accepts no mail', 'sender.test': 'discard:' },
      });
    });
    after(async () => {
      await postfix?.stop();
      await filter?.close();
    });

    /** What the stand-in filter got for `marker`; then it re-injects it, as serve would. */
    const filtered = async (marker: string) => {
      const t = await waitFor(
        `the filter's copy of ${marker}`,
        () => filter.transactions.find((x) => x.data.includes(marker)),
        30_000,
        log,
      );
      await sendMail({ port: reinjectPort, from: t.from, to: t.to, data: t.data });
      return t;
    };
    const deliveredTo = (user: string, marker: string) =>
      waitFor(
        `${marker} in ${user}'s Maildir`,
        () => postfix.delivered(user).find((m) => m.includes(marker)),
        30_000,
        log,
      );

    it('SMTP inbound goes through the filter with XFORWARD, then is delivered once', async () => {
      const marker = fresh();
      await sendMail({
        port,
        from: 'alice@sender.test',
        to: [`bob@${DOMAIN}`],
        data: message(`bob@${DOMAIN}`, marker),
      });
      const t = await filtered(marker);
      assert.equal(t.xForward.ADDR, '127.0.0.1');
      assert.deepEqual(t.to, [`bob@${DOMAIN}`]);
      await deliveredTo('bob', marker);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(filter.transactions.filter((x) => x.data.includes(marker)).length, 1, 'not filtered twice');
      assert.equal(postfix.delivered('bob').filter((m) => m.includes(marker)).length, 1);
    });

    it('local sendmail (pickup) and a bounce go through the filter too', async () => {
      const marker = fresh();
      await postfix.sendmail(['-i', '-f', `bob@${DOMAIN}`, '--', 'someone@gone.test'], message('x@gone.test', marker));
      await filtered(marker);
      // Postfix bounces it after re-injection; the DSN (null sender) quotes it and passes the filter on its way in.
      const dsn = await waitFor(
        'the bounce at the filter',
        () => filter.transactions.find((x) => x.from === '' && x.data.includes(marker)),
        30_000,
        log,
      );
      assert.deepEqual(dsn.to, [`bob@${DOMAIN}`]);
      await sendMail({ port: reinjectPort, from: '', to: dsn.to, data: dsn.data });
      const stored = await deliveredTo('bob', marker);
      assert.match(stored.toString('latin1'), /Undelivered Mail Returned to Sender/);
    });

    it("the filter's 4xx after DATA leaves the message deferred in Postfix's queue", async () => {
      const marker = fresh();
      await filter.close();
      const queueId = queueIdOf(
        await sendMail({ port, from: 'alice@sender.test', to: [`dave@${DOMAIN}`], data: message('dave', marker) }),
      );
      await waitFor(
        'the deferral',
        () => (new RegExp(`${queueId}: to=<dave@${DOMAIN}>, .*status=deferred`).test(log()) ? true : undefined),
        30_000,
        log,
      );
      assert.ok((await postfix.queue()).some((e) => e.queue_id === queueId));
    });
  });

  describe('delivery proxy (virtual_transport = lmtp:inet:...)', () => {
    let postfix: PostfixInstance;
    let proxy: FakeLmtp;
    let port: number;
    const log = (): string => postfix.maillog();

    before(async () => {
      port = await freePort();
      proxy = await startFakeLmtp({
        listen: 'inet',
        data: (rcpt) =>
          rcpt.startsWith('ghost@') ? [550, "5.1.1 <ghost@wiring.test> User doesn't exist: ghost@wiring.test"] : null,
      });
      postfix = await startPostfix({
        domain: DOMAIN,
        mailboxes: ['bob', 'dave', 'ghost'],
        listeners: [{ port }],
        pgpipeBin: '/bin/false',
        pgpipeConf: '',
        serve: { protocol: 'lmtp', listen: proxy.address },
        transports: { 'sender.test': 'discard:' },
      });
    });
    after(async () => {
      await postfix?.stop();
      await proxy?.close();
    });

    it("one LMTP transaction for several recipients; each recipient's reply is its outcome", async () => {
      const marker = fresh();
      const to = [`bob@${DOMAIN}`, `dave@${DOMAIN}`, `ghost@${DOMAIN}`];
      const queueId = queueIdOf(
        await sendMail({ port, from: 'alice@sender.test', to, data: message(to.join(', '), marker) }),
      );
      const t = await waitFor(
        'the LMTP copy',
        () => proxy.transactions.find((x) => x.data.includes(marker)),
        30_000,
        log,
      );
      assert.deepEqual([...t.to].sort(), to);
      for (const user of ['bob', 'dave'])
        await waitFor(
          `sent to ${user}`,
          () =>
            new RegExp(`${queueId}: to=<${user}@${DOMAIN}>, relay=127\\.0\\.0\\.1.*status=sent`).test(log())
              ? true
              : undefined,
          30_000,
          log,
        );
      await waitFor(
        'ghost bounced with the LMTP text',
        () =>
          new RegExp(`${queueId}: to=<ghost@${DOMAIN}>, .*status=bounced .*User doesn't exist`).test(log())
            ? true
            : undefined,
        30_000,
        log,
      );
    });
  });
});
