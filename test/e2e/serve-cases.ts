// The end-to-end cases of `pgpipe serve`, run once per wiring by serve-lmtp.test.ts and serve-smtp.test.ts, each with
// one set of real components: Postfix 3.7, Dovecot 2.3, spamd, PostgreSQL 15, and serve itself as the dedicated
// `pgpipe` user (peer authentication, Dovecot's lmtp-pgpipe socket), started from bin/pgpipe or PGPIPE_E2E_BIN.
// Postfix is wired by `pgpipe setup postfix --mode serve-lmtp|serve-smtp --apply`, as the README tells an admin:
//   lmtp: virtual_transport = pgpipe-lmtp:unix:pgpipe/lmtp (chrooted lmtp client, setup's pgpipe:postfix 2750
//         socket directory) → [front proxy] → serve --protocol lmtp → [next proxy] → Dovecot's lmtp-pgpipe
//   smtp: content_filter = pgpipe-smtp:[127.0.0.1]:PORT (main.cf) → [front proxy] → serve --protocol smtp →
//         [next proxy] → setup's re-injection smtpd → virtual_transport = lmtp:… → Dovecot LMTP
// The two proxies (smtp-proxy.ts) pass bytes through; they stall a body halfway (kill serve mid-DATA), hold the next
// hop's replies (kill serve after the next hop stored the message, before Postfix heard 250), refuse connections
// (the re-injection port closed), and record when each message's DATA ended (the key rotation case). Every case is
// checked in Dovecot's Maildir files; at the end no file under a keyed user's home holds a plaintext marker.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as openpgp from 'openpgp';
import { decryptWithGpg, parsePgpMime } from '../helpers/decrypt.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { splitRaw } from '../helpers/raw-mime.js';
import { seedStore } from '../helpers/seed.js';
import { startDovecot, type DovecotInstance } from './dovecot-instance.js';
import { freePort } from './free-port.js';
import { applyPostgresSnippets, ensureUser, installedPgpipe, pgpipeConf } from './pgpipe-install.js';
import { startPostfix, waitFor, type PostfixInstance } from './postfix-instance.js';
import { startServe, type ServeInstance } from './serve-instance.js';
import { startSmtpProxy, type SmtpProxy } from './smtp-proxy.js';
import { queueIdOf, sendMail } from './smtp-client.js';
import { startSpamd, type Spamd } from './spamd.js';

const run = promisify(execFile);
const DOMAIN = 'e2e.test';
const WAIT_MS = 30_000;
const KEYED = ['bob', 'carol'] as const;
type Keyed = (typeof KEYED)[number];
export type Wiring = 'lmtp' | 'smtp';

// Skipped only outside CI: there (.ci/run, root, every package installed) a missing piece must fail, not hide.
export const skipReason = ((): string | false => {
  if (process.env.CI === 'true') return false;
  if (process.getuid?.() !== 0) return 'needs root (Postfix and Dovecot instances, useradd, serve as user pgpipe)';
  for (const tool of [
    '/usr/sbin/postfix',
    '/usr/sbin/dovecot',
    '/usr/lib/dovecot/lmtp',
    '/usr/sbin/spamd',
    '/usr/bin/spamc',
    '/usr/lib/postgresql/15/bin/initdb',
  ]) {
    if (!existsSync(tool)) return `${tool} not installed`;
  }
  return false;
})();

const at = (user: string): string => `${user}@${DOMAIN}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface TestMessage {
  readonly id: string;
  readonly subject: string;
  readonly marker: string;
  readonly text: string;
}

/** Key IDs (hex) the PKESK packets of an encrypted message are for. */
async function pkeskKeyIds(mail: Buffer): Promise<string[]> {
  const message = await openpgp.readMessage({ armoredMessage: parsePgpMime(mail).armor });
  return message
    .getEncryptionKeyIDs()
    .map((id) => id.toHex())
    .sort();
}
/** Key IDs of a key's encryption subkeys (what a PKESK to that key names). */
async function encryptionKeyIds(armored: string): Promise<string[]> {
  const key = await openpgp.readKey({ armoredKey: armored });
  return key
    .getSubkeys()
    .map((s) => s.getKeyID().toHex())
    .sort();
}

export function serveCases(wiring: Wiring): void {
  let pg: PgCluster;
  let spamd: Spamd;
  let dovecot: DovecotInstance;
  let postfix: PostfixInstance;
  let serve: ServeInstance;
  let front: SmtpProxy;
  let next: SmtpProxy;
  let app: { bin: string; remove(): void } | undefined;
  let keys: Record<Keyed, TestKey>;
  let port: number;
  const markers: Record<Keyed, string[]> = { bob: [], carol: [] };
  let counter = 0;

  function message(to: string, keyedFor: readonly Keyed[], options: { from?: string; body?: string } = {}) {
    counter += 1;
    const marker = `PLAIN${counter}X${randomBytes(6).toString('hex')}`;
    for (const user of keyedFor) markers[user].push(marker);
    const id = `<serve-${wiring}-${process.pid}-${counter}@sender.test>`;
    const subject = `Secret subject ${marker}`;
    const body = options.body ?? `The body of case ${counter}: ${marker}.\n`;
    const text =
      `From: ${options.from ?? 'Alice <alice@sender.test>'}\nTo: ${to}\nSubject: ${subject}\n` +
      `Date: Tue, 01 Dec 2026 07:00:00 +0000\nMessage-ID: ${id}\n\n${body}`;
    return { id, subject, marker, text } satisfies TestMessage;
  }
  const outerHeader = (mail: Buffer, lower: string): string[] =>
    splitRaw(mail)
      .fields.filter((f) => f.lower === lower)
      .map((f) => f.raw.toString('latin1'));
  const copies = (user: string, m: TestMessage): Buffer[] =>
    dovecot.messages(user).filter((mail) => outerHeader(mail, 'message-id').some((f) => f.includes(m.id)));
  const logs = (): string =>
    `${postfix.maillog()}\n--- serve ---\n${serve?.stderr().split('\n').slice(-15).join('\n')}\n--- dovecot ---\n` +
    dovecot.log().split('\n').slice(-10).join('\n');
  const stored = (user: string, m: TestMessage): Promise<Buffer> =>
    waitFor(`${m.id} in ${user}'s Maildir`, () => copies(user, m)[0], WAIT_MS, logs);
  const logShows = (pattern: RegExp): Promise<true> =>
    waitFor(`maillog line ${pattern}`, () => (pattern.test(postfix.maillog()) ? true : undefined), WAIT_MS, logs);
  const send = async (m: TestMessage, to: readonly string[], from = 'alice@sender.test'): Promise<string> =>
    queueIdOf(await sendMail({ port, from, to, data: m.text }));
  /** How Postfix's log names the hop into serve (the front proxy): the socket, or the loopback port. */
  const frontRelay = (): string =>
    wiring === 'lmtp' ? '[^,]*pgpipe/lmtp\\]?' : `127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${front.port}`;
  /** The deferral of the queue file `queueId` for `rcpt` by the hop into serve (not a later one). */
  const deferred = (queueId: string, rcpt: string): RegExp =>
    new RegExp(`${queueId}: to=<${rcpt}>, relay=${frontRelay()}, .*dsn=4\\.\\d+\\.\\d+, status=deferred`);

  /** The deferral line's reason for the report (Postfix's own words). */
  const deferralReason = (queueId: string, rcpt: string): string =>
    new RegExp(`${queueId}: to=<${rcpt}>, .*status=deferred \\((.*)\\)$`, 'm').exec(postfix.maillog())?.[1] ?? '';

  async function assertEncryptedFor(mail: Buffer, user: Keyed, m?: TestMessage): Promise<string> {
    parsePgpMime(mail);
    assert.deepEqual(outerHeader(mail, 'subject'), ['Subject: [...]']);
    for (const marker of markers[user]) assert.ok(!mail.includes(marker), `plaintext ${marker} in the stored mail`);
    const inner = (await decryptWithGpg(mail, keys[user].privateArmored)).toString('latin1');
    if (m !== undefined) {
      assert.ok(inner.includes(`\r\nSubject: ${m.subject}\r\n`), 'the real Subject is inside');
      assert.ok(inner.includes(m.marker), 'the body is inside');
    }
    return inner;
  }
  const assertAsSent = (mail: Buffer, m: TestMessage): void => {
    assert.equal(splitRaw(mail).body.toString('latin1'), m.text.slice(m.text.indexOf('\n\n') + 2));
    assert.deepEqual(outerHeader(mail, 'subject'), [`Subject: ${m.subject}`]);
  };

  /** Sent while `down` holds: deferred in Postfix's queue (4xx), then delivered encrypted once `up` and a flush. */
  async function assertWaitsThenArrives(down: () => Promise<void>, up: () => Promise<void>): Promise<void> {
    await down();
    let restored = false;
    try {
      const m = message(at('carol'), ['carol']);
      const queueId = await send(m, [at('carol')]);
      await logShows(deferred(queueId, at('carol')));
      assert.ok((await postfix.queue()).some((e) => e.queue_id === queueId && e.queue_name === 'deferred'));
      assert.deepEqual(copies('carol', m), []);
      await up();
      restored = true;
      await postfix.flush();
      await assertEncryptedFor(await stored('carol', m), 'carol', m);
      await sleep(500);
      assert.equal(copies('carol', m).length, 1);
    } finally {
      if (!restored) await up();
    }
  }

  describe(
    `pgpipe serve end to end, ${wiring} wiring: Postfix, Dovecot, spamd, PostgreSQL`,
    { skip: skipReason },
    () => {
      before(
        async () => {
          await ensureUser('pgpipe');
          const started = await Promise.allSettled([
            makeKey({ kind: 'curve25519', email: at('bob') }),
            makeKey({ kind: 'rsa3072', email: at('carol') }),
            startPostgres().then((cluster) => (pg = cluster)),
            startSpamd().then((daemon) => (spamd = daemon)),
            startDovecot({ domain: DOMAIN, users: ['bob', 'carol', 'dave'] }).then((d) => (dovecot = d)),
            installedPgpipe(['pgpipe']).then((installed) => (app = installed)),
            freePort().then((p) => (port = p)),
          ]);
          const failed = started.find((r) => r.status === 'rejected');
          if (failed) throw failed.reason;
          const [bob, carol] = started.map((r) => (r as PromiseFulfilledResult<TestKey>).value) as [TestKey, TestKey];
          keys = { bob, carol };
          await applyPostgresSnippets(pg, ['pgpipe']);
          // dave has a mailbox but no users row (keyless); ghost is known to Postfix, not to Dovecot.
          await seedStore({ databaseUrl: pg.url }, [
            { email: at('bob'), pgpkey: bob.publicArmored },
            { email: at('carol'), pgpkey: carol.publicArmored },
          ]);
          const bin = (app as { bin: string }).bin;
          const [servePort, reinjectPort] = await Promise.all([freePort(), freePort()]);
          next =
            wiring === 'lmtp'
              ? await startSmtpProxy({ path: dovecot.lmtpUnix.slice('unix:'.length) })
              : await startSmtpProxy({ host: '127.0.0.1', port: reinjectPort });
          serve = await startServe({
            bin,
            protocol: wiring,
            listen: `inet:127.0.0.1:${servePort}`,
            next: next.address,
            conf: pgpipeConf(pg, spamd.port),
            user: 'pgpipe',
          });
          postfix = await startPostfix({
            domain: DOMAIN,
            mailboxes: ['bob', 'carol', 'dave', 'ghost'],
            listeners: [{ port }],
            pgpipeBin: bin,
            pgpipeConf: '',
            transports: { 'gone.test': 'error:5.1.2 gone.test accepts no mail', 'sender.test': 'discard:' },
            // Deferred mail stays deferred until the test flushes the queue (no retry races the test's checks).
            // smtp: after the re-injection, the tutorial's Dovecot listener for Postfix delivers.
            mainCf:
              'queue_run_delay = 300s\nminimal_backoff_time = 300s\nmaximal_backoff_time = 600s\n' +
              (wiring === 'smtp'
                ? `virtual_transport = lmtp:unix:${join(dovecot.dir, 'private', 'dovecot-lmtp')}\n`
                : ''),
          });
          // Wired as the README tells an administrator; Postfix connects to the front proxy, which is serve's
          // address as far as Postfix knows: lmtp, setup's socket in the queue directory; smtp, a loopback port.
          const socketDir = join(postfix.dir, 'spool', 'pgpipe');
          const frontListen = wiring === 'lmtp' ? { path: join(socketDir, 'lmtp') } : await freePort();
          const frontAddress =
            typeof frontListen === 'number' ? `inet:127.0.0.1:${frontListen}` : `unix:${frontListen.path}`;
          await run(
            bin,
            [
              'setup',
              'postfix',
              '--mode',
              `serve-${wiring}`,
              '--postfix-config',
              postfix.configDir,
              '--pgpipe',
              bin,
              '--user',
              'pgpipe',
              '--listen',
              frontAddress,
              '--next',
              wiring === 'lmtp' ? dovecot.lmtpUnix : `inet:127.0.0.1:${reinjectPort}`,
              ...(wiring === 'lmtp' ? ['--transport-setting', 'virtual_transport'] : []),
              '--apply',
            ],
            { timeout: 60_000 },
          );
          // serve-lmtp --apply made the socket directory pgpipe:postfix 2750.
          front = await startSmtpProxy({ host: '127.0.0.1', port: servePort }, frontListen);
          await postfix.reload();
        },
        { timeout: 180_000 },
      );

      after(
        async () => {
          await postfix?.stop();
          await serve?.stop();
          await front?.close();
          await next?.close();
          await dovecot?.destroy();
          await spamd?.stop();
          await pg?.stop();
          app?.remove();
        },
        { timeout: 60_000 },
      );

      it('serve said where it listens and which next hop it uses', () => {
        assert.match(
          serve.listening(),
          new RegExp(`^pgpipe serve: listening on (inet:)?127\\.0\\.0\\.1:\\d+ \\(${wiring}\\)`),
        );
        assert.ok(serve.listening().includes(next.address), serve.listening());
      });

      it('keyed: PGP/MIME gpg decrypts, real Subject inside; keyless: as sent', async () => {
        const m = message(`${at('bob')}, ${at('dave')}`, ['bob']);
        const queueId = await send(m, [at('bob'), at('dave')]);
        const [toBob, toDave] = await Promise.all([stored('bob', m), stored('dave', m)]);
        assert.match(outerHeader(toBob, 'x-spam-status')[0] ?? '', /^X-Spam-Status: No, score=/);
        const inner = await assertEncryptedFor(toBob, 'bob', m);
        assert.ok(inner.includes(`\r\n\r\nThe body of case ${counter}: ${m.marker}.\r\n`));
        assertAsSent(toDave, m);
        assert.equal(outerHeader(toDave, 'x-spam-status').length, 1);
        await logShows(new RegExp(`${queueId}: to=<${at('bob')}>, relay=${frontRelay()}, .*status=sent`));
        // One transaction line in serve's log names the queue file's recipients; no content in it.
        await waitFor('the serve log line', () => serve.logLines().find((l) => l.includes(at('bob'))), WAIT_MS, logs);
        for (const line of serve.logLines()) assert.ok(!line.includes(m.marker), `content in the log: ${line}`);
      });

      it(
        'lmtp over the documented unix socket: a pgpipe:postfix 2750 setgid directory lets Postfix (only) in',
        {
          skip: wiring === 'smtp' ? 'the smtp wiring is loopback TCP' : false,
        },
        async () => {
          // serve-lmtp --apply made it (pgpipe:postfix 2750); the test makes sure of that layout.
          const dir = join(postfix.dir, 'spool', 'pgpipe');
          mkdirSync(dir, { recursive: true });
          const [uid, gid] = await Promise.all([run('id', ['-u', 'pgpipe']), run('id', ['-g', 'postfix'])]);
          chownSync(dir, Number(uid.stdout), Number(gid.stdout));
          chmodSync(dir, 0o2750);
          const before = (await run('postconf', ['-c', postfix.configDir, '-h', 'virtual_transport'])).stdout.trim();
          const onSocket = await startServe({
            bin: app?.bin ?? '',
            protocol: 'lmtp',
            listen: `unix:${join(dir, 'lmtp2')}`,
            next: dovecot.lmtpUnix,
            conf: pgpipeConf(pg, spamd.port),
            user: 'pgpipe',
          });
          try {
            // setup's default: relative to the queue directory, so the chrooted lmtp client finds it too.
            await postfix.postconf('virtual_transport = pgpipe-lmtp:unix:pgpipe/lmtp2');
            await postfix.reload();
            const m = message(at('bob'), ['bob']);
            const queueId = await send(m, [at('bob')]);
            await assertEncryptedFor(await stored('bob', m), 'bob', m);
            await logShows(new RegExp(`${queueId}: to=<${at('bob')}>, relay=[^,]*pgpipe/lmtp2.*status=sent`));
            // Nobody else gets in: an ordinary account is refused by the directory.
            const other = await run('runuser', ['-u', 'nobody', '--', 'test', '-x', dir]).then(
              () => 'searchable',
              () => 'refused',
            );
            assert.equal(other, 'refused');
          } finally {
            await postfix.postconf(`virtual_transport = ${before}`);
            await postfix.reload();
            await onSocket.stop();
          }
        },
      );

      it("a recipient Dovecot doesn't know: bounced with Dovecot's 5xx; the others delivered", async () => {
        const m = message(`${at('bob')}, ${at('dave')}, ${at('ghost')}`, ['bob']);
        const queueId = await send(m, [at('bob'), at('dave'), at('ghost')]);
        const [toBob, toDave] = await Promise.all([stored('bob', m), stored('dave', m)]);
        await assertEncryptedFor(toBob, 'bob', m);
        assertAsSent(toDave, m);
        // lmtp: serve relays Dovecot's reply for that recipient; smtp: Postfix gets it after the re-injection.
        const bounced =
          wiring === 'lmtp'
            ? new RegExp(
                `${queueId}: to=<${at('ghost')}>, relay=${frontRelay()}, .*dsn=5\\.1\\.1, ` +
                  "status=bounced .*User doesn't exist",
              )
            : new RegExp(`: to=<${at('ghost')}>, relay=.*dsn=5\\.1\\.1, status=bounced .*User doesn't exist`);
        await logShows(bounced);
        assert.doesNotMatch(postfix.maillog(), new RegExp(`to=<${at('bob')}>.*status=bounced`));
      });

      it('local sendmail (pickup) submission arrives encrypted', async () => {
        const m = message(at('bob'), ['bob'], { from: 'Cron Daemon <nobody@e2e.test>' });
        await postfix.sendmail(['-i', '-f', at('nobody'), '--', at('bob')], m.text, 'nobody');
        await assertEncryptedFor(await stored('bob', m), 'bob', m);
      });

      // bounce(8) hands its notices to cleanup directly, and only smtpd, pickup and qmqpd put main.cf's content_filter
      // on what they receive: setup's serve-smtp wiring adds internal_mail_filter_classes = bounce and a header_checks
      // FILTER action for them (proven alone with a stand-in filter in serve-wiring.test.ts).
      it("Postfix's bounce of a keyed user's outgoing message (it quotes the message) arrives encrypted", async () => {
        const m = message('someone@gone.test', ['bob'], { from: `Bob <${at('bob')}>` });
        const before = dovecot.messages('bob').length;
        await postfix.sendmail(['-i', '-f', at('bob'), '--', 'someone@gone.test'], m.text, 'nobody');
        await logShows(/: to=<someone@gone\.test>, relay=none, .*status=bounced \(gone\.test accepts no mail\)/);
        const dsn = await waitFor(
          "the DSN in bob's Maildir",
          () =>
            dovecot
              .messages('bob')
              .slice(before)
              .find((mail) => outerHeader(mail, 'from').some((f) => /MAILER-DAEMON/i.test(f))),
          WAIT_MS,
          logs,
        );
        const inner = await assertEncryptedFor(dsn, 'bob');
        assert.match(inner, /Subject: Undelivered Mail Returned to Sender/);
        assert.ok(inner.includes(m.marker), 'the quoted original is inside the encryption');
      });

      const downName = wiring === 'lmtp' ? 'Dovecot stopped' : 'reinjection port closed';
      it(`next hop down (${downName}): 4xx, queued, then delivered`, async () => {
        await assertWaitsThenArrives(
          wiring === 'lmtp' ? () => dovecot.stop() : () => next.refuse(),
          wiring === 'lmtp' ? () => dovecot.start() : () => next.accept(),
        );
        assert.ok(serve.running());
      });

      it('kill -9 mid-DATA: deferred in Postfix; after a restart it arrives once, encrypted', async () => {
        // A body of many lines, so that Postfix sends it in several writes and the proxy can stop halfway.
        const m = message(at('carol'), ['carol'], { body: `${'0123456789abcdef '.repeat(4)}\n`.repeat(4000) });
        front.holdMidData();
        const halfway = front.held();
        const queueId = await send(m, [at('carol')]);
        await halfway;
        const exit = await serve.kill9();
        assert.equal(exit.signal, 'SIGKILL');
        front.release();
        await logShows(deferred(queueId, at('carol')));
        process.stderr.write(`serve ${wiring}: kill -9 mid-DATA: Postfix: ${deferralReason(queueId, at('carol'))}\n`);
        assert.deepEqual(copies('carol', m), []);
        await serve.restart();
        await postfix.flush();
        await assertEncryptedFor(await stored('carol', m), 'carol', m);
        await sleep(1000);
        assert.equal(copies('carol', m).length, 1, 'no duplicate: the next hop never saw the first attempt');
      });

      it('kill -9 after the next hop stored it, before 250 reached Postfix: a duplicate', async () => {
        const m = message(at('carol'), ['carol']);
        next.holdReplies();
        const stalled = next.held();
        const queueId = await send(m, [at('carol')]);
        await stalled;
        // The next hop has answered (held by the proxy): the copy is already in carol's Maildir (lmtp) or queued by
        // the re-injection smtpd (smtp) — Postfix has not been told.
        await serve.kill9();
        next.release();
        await logShows(deferred(queueId, at('carol')));
        process.stderr.write(
          `serve ${wiring}: kill -9 after the next hop stored it: Postfix: ${deferralReason(queueId, at('carol'))}\n`,
        );
        await stored('carol', m);
        await serve.restart();
        await postfix.flush();
        await waitFor('the second copy', () => (copies('carol', m).length === 2 ? true : undefined), WAIT_MS, logs);
        process.stderr.write(
          `serve ${wiring}: after the retry carol has ${copies('carol', m).length} copies of that message\n`,
        );
        for (const copy of copies('carol', m)) await assertEncryptedFor(copy, 'carol', m);
        await logShows(new RegExp(`${queueId}: to=<${at('carol')}>, relay=${frontRelay()}, .*status=sent`));
      });

      it('SIGTERM mid-forwarding: finished within the grace (250, one copy), exit 0', async () => {
        const m = message(at('carol'), ['carol']);
        next.holdReplies();
        const stalled = next.held();
        const queueId = await send(m, [at('carol')]);
        await stalled;
        const exited = serve.terminate();
        await sleep(500);
        assert.ok(serve.running(), 'still finishing its transaction');
        next.release();
        const exit = await exited;
        assert.deepEqual(exit, { code: 0, signal: null });
        await logShows(new RegExp(`${queueId}: to=<${at('carol')}>, relay=${frontRelay()}, .*status=sent`));
        await serve.restart();
        await sleep(500);
        assert.equal(copies('carol', m).length, 1);
        await assertEncryptedFor(copies('carol', m)[0] as Buffer, 'carol', m);
      });

      it('PostgreSQL restarted under load: deferrals, then all delivered, none in clear to a keyed user', async () => {
        const total = 40;
        const sent: { m: TestMessage; user: 'bob' | 'dave'; queueId: string }[] = [];
        const sender = (async () => {
          for (let i = 0; i < total; i++) {
            const user = i % 2 === 0 ? 'bob' : 'dave';
            const m = message(at(user), user === 'bob' ? ['bob'] : []);
            sent.push({ m, user, queueId: await send(m, [at(user)]) });
            await sleep(100);
          }
        })();
        await waitFor('ten messages sent', () => (sent.length >= 10 ? true : undefined), WAIT_MS, logs);
        const sentLines = (): number => serve.logLines().filter((l) => / status=sent /.test(l)).length;
        await pg.stopServer();
        const downAt = Date.now();
        const sentWhenDown = sentLines();
        await sleep(3000);
        await pg.startServer();
        const backAt = Date.now();
        // How long serve takes to deliver again once PostgreSQL is back (its pool reconnects on demand).
        const sentWhenBack = sentLines();
        let recoveredMs = -1;
        const watch = setInterval(() => {
          if (recoveredMs === -1 && sentLines() > sentWhenBack) recoveredMs = Date.now() - backAt;
        }, 50);
        await sender;
        const started = Date.now();
        for (;;) {
          const missing = sent.filter(({ m, user }) => copies(user, m).length === 0);
          if (missing.length === 0) break;
          if (Date.now() - started > 60_000) assert.fail(`${missing.length} never arrived\n${logs()}`);
          await postfix.flush();
          await sleep(2000);
        }
        clearInterval(watch);
        const sentWhileDown = sentWhenBack - sentWhenDown;
        const deferrals = sent.filter(({ queueId }) =>
          new RegExp(`${queueId}: to=<[^>]+>, relay=${frontRelay()}, .*status=deferred`).test(postfix.maillog()),
        ).length;
        const duplicates = sent.filter(({ m, user }) => copies(user, m).length > 1).length;
        const reasons = new Set(
          [
            ...postfix
              .maillog()
              .matchAll(/^.* (\w+): to=.*status=deferred \((?:host \S+ said: )?(\d{3} \d\.\d\.\d [^(]{0,60})/gm),
          ]
            .filter((r) => sent.some(({ queueId }) => queueId === r[1]))
            .map((r) => r[2]),
        );
        for (const { m, user } of sent) {
          const mail = copies(user, m)[0] as Buffer;
          if (user === 'bob') await assertEncryptedFor(mail, 'bob', m);
          else assertAsSent(mail, m);
        }
        process.stderr.write(
          `serve ${wiring}: PostgreSQL restart under load: ${total} sent, ${deferrals} deferred, ` +
            `${duplicates} duplicated, ${sentWhileDown} sent while it was down (${backAt - downAt} ms), first ` +
            `delivery ${recoveredMs} ms after it was back, ` +
            `all delivered ${Date.now() - started} ms after the last send; ` +
            `deferral replies: ${[...reasons].join(' | ')}\n`,
        );
        assert.ok(deferrals > 0, 'some messages met the database down and were deferred');
        assert.equal(duplicates, 0);
        assert.ok(serve.running(), 'serve survived the database restart');
      });

      it('key rotated under load: DATA ended after `key set` returned: new key only', async () => {
        const fresh = await makeKey({ kind: 'curve25519', email: at('carol') });
        const [oldIds, newIds] = await Promise.all([
          encryptionKeyIds(keys.carol.publicArmored),
          encryptionKeyIds(fresh.publicArmored),
        ]);
        const dir = mkdtempSync(join(tmpdir(), 'pgpipe-rotate-'));
        const keyFile = join(dir, 'carol.asc');
        writeFileSync(keyFile, fresh.publicArmored);
        const total = 30;
        const sent: TestMessage[] = [];
        let returnedAt = 0;
        try {
          // Four senders at once, so messages are in every stage of serve's pipeline when the key changes.
          const senders = [0, 1, 2, 3].map(async () => {
            while (sent.length < total) {
              const m = message(at('carol'), ['carol']);
              sent.push(m);
              await send(m, [at('carol')]);
              await sleep(50);
            }
          });
          await waitFor('ten messages sent', () => (sent.length >= 10 ? true : undefined), WAIT_MS, logs);
          await run(app?.bin ?? '', ['key', 'set', at('carol'), keyFile, '--db', pg.url], { timeout: 30_000 });
          returnedAt = Date.now();
          await Promise.all(senders);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        await waitFor(
          'every message stored',
          () => (sent.every((m) => copies('carol', m).length > 0) ? true : undefined),
          60_000,
          logs,
        );
        let before = 0;
        let afterCount = 0;
        let oldAfter = 0;
        for (const m of sent) {
          const ends = front.dataEnds.filter((e) => e.messageId === m.id);
          assert.ok(ends.length > 0, `${m.id}: its DATA passed the proxy`);
          const end = Math.min(...ends.map((e) => e.at));
          const ids = await pkeskKeyIds(copies('carol', m)[0] as Buffer);
          if (end > returnedAt) {
            afterCount += 1;
            if (ids.join() !== newIds.join()) oldAfter += 1;
            assert.deepEqual(ids, newIds, `${m.id}: DATA ended ${end - returnedAt} ms after key set returned`);
          } else {
            before += 1;
            assert.ok(ids.join() === oldIds.join() || ids.join() === newIds.join(), `${m.id}: ${ids.join()}`);
          }
        }
        process.stderr.write(
          `serve ${wiring}: key rotation under load: ${before} before, ${afterCount} after key set returned, ` +
            `${oldAfter} of those for the old key\n`,
        );
        assert.ok(afterCount >= 5 && before >= 5, `messages on both sides of the rotation (${before}/${afterCount})`);
        keys.carol = fresh;
      });

      it("no file under a keyed user's home holds a plaintext marker of their mail", () => {
        for (const user of KEYED) {
          assert.ok(markers[user].length >= 3, `${user} got several keyed messages`);
          for (const { path, content } of dovecot.files(user)) {
            for (const marker of markers[user]) assert.ok(!content.includes(marker), `${marker} in ${path}`);
          }
        }
      });
    },
  );
}
