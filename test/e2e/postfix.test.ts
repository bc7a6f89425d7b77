// End to end through a real Postfix 3.7 (Debian), real spamd and a real PostgreSQL, wired with postfix-snippets/:
// mail sent over SMTP on loopback, filtered by `pgpipe filter` under pipe(8) as an unprivileged user, re-injected
// with Postfix's own sendmail, delivered by virtual(8) to Maildirs, and read back with gpg.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { decryptWithGpg, parsePgpMime } from '../helpers/decrypt.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { splitRaw } from '../helpers/raw-mime.js';
import { seedStore } from '../helpers/seed.js';
import { freePort } from './free-port.js';
import { applyPostgresSnippets, ensureUser, installedPgpipe, pgpipeConf } from './pgpipe-install.js';
import { startPostfix, waitFor, type PostfixInstance } from './postfix-instance.js';
import { queueIdOf, sendMail } from './smtp-client.js';
import { startSpamd, type Spamd } from './spamd.js';

const DOMAIN = 'e2e.test';
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const WAIT_MS = 60_000;

const skipReason = ((): string | false => {
  if (process.getuid?.() !== 0) return 'needs root (Postfix instance, useradd, pipe user=)';
  for (const tool of ['/usr/sbin/postfix', '/usr/sbin/spamd', '/usr/bin/spamc', '/usr/lib/postgresql/15/bin/initdb']) {
    try {
      readFileSync(tool, { flag: 'r' }).subarray(0, 1);
    } catch {
      return `${tool} not installed`;
    }
  }
  return false;
})();

let pg: PgCluster;
let spamd: Spamd;
let postfix: PostfixInstance;
let app: { bin: string; remove(): void } | undefined;
let keys: Record<'bob' | 'carol', TestKey>;
let port: number; // the recommended wiring (postfix-snippets/master.cf)
let tutorialPort: number; // the tutorial's gpgit-pipe line with gpgit_postfix.sh replaced by pgpipe filter

const at = (user: string): string => `${user}@${DOMAIN}`;
let counter = 0;
function message(to: string, body: string, extra = ''): { id: string; text: string } {
  const id = `<e2e-${process.pid}-${++counter}@sender.test>`;
  const text = `From: Alice <alice@sender.test>\nTo: ${to}\nSubject: e2e case ${counter}\nDate: Sat, 21 Nov 2026 07:00:00 +0000\nMessage-ID: ${id}\n${extra}\n${body}`;
  return { id, text };
}

/** The delivered copy carrying `messageId` in a mailbox (Message-ID stays on the outer headers), or undefined. */
function findDelivered(user: string, messageId: string): Buffer | undefined {
  return postfix
    .delivered(user)
    .find((m) =>
      splitRaw(m).fields.some((f) => f.lower === 'message-id' && f.raw.toString('latin1').includes(messageId)),
    );
}
const delivered = (user: string, messageId: string): Promise<Buffer> =>
  waitFor(
    `${messageId} in ${user}'s Maildir`,
    () => findDelivered(user, messageId),
    WAIT_MS,
    () => postfix.maillog(),
  );
/** postlogd writes the maillog asynchronously, so a line may land just after the mail itself. */
const logShows = (pattern: RegExp): Promise<true> =>
  waitFor(
    `maillog line ${pattern}`,
    () => (pattern.test(postfix.maillog()) ? true : undefined),
    10_000,
    () => postfix.maillog(),
  );
const outerHeader = (mail: Buffer, lower: string): string[] =>
  splitRaw(mail)
    .fields.filter((f) => f.lower === lower)
    .map((f) => f.raw.toString('latin1'));

describe('end to end through Postfix, spamd and PostgreSQL', { skip: skipReason }, () => {
  before(
    async () => {
      await Promise.all([ensureUser('pgpipe'), ensureUser('gpgit')]);
      // Each service is kept as soon as it is up, so after() stops it even if another one failed to start.
      const started = await Promise.allSettled([
        makeKey({ kind: 'curve25519', email: at('bob') }),
        makeKey({ kind: 'rsa3072', email: at('carol') }),
        startPostgres().then((cluster) => (pg = cluster)),
        startSpamd().then((daemon) => (spamd = daemon)),
      ]);
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      const [bob, carol] = started.map((r) => (r as PromiseFulfilledResult<TestKey>).value) as [TestKey, TestKey];
      keys = { bob, carol };
      await applyPostgresSnippets(pg, ['pgpipe', 'gpgit']);
      // dave has a mailbox but no users row: the keyless case.
      await seedStore({ databaseUrl: pg.url }, [
        { email: at('bob'), pgpkey: bob.publicArmored },
        { email: at('carol'), pgpkey: carol.publicArmored },
      ]);
      [port, tutorialPort] = await Promise.all([freePort(), freePort()]);
      postfix = await startPostfix({
        domain: DOMAIN,
        mailboxes: ['bob', 'carol', 'dave'],
        listeners: [
          { port, contentFilter: 'pgpipe:dummy' },
          { port: tutorialPort, contentFilter: 'gpgit-pipe' },
        ],
        pgpipeBin: (app = await installedPgpipe(['pgpipe', 'gpgit'])).bin,
        pgpipeConf: pgpipeConf(pg, spamd.port),
      });
    },
    { timeout: 180_000 },
  );

  after(
    async () => {
      await postfix?.stop();
      await spamd?.stop();
      await pg?.stop();
      app?.remove();
    },
    { timeout: 60_000 },
  );

  it('keyed user: arrives encrypted, decrypts with their key, body intact, spam verdict outside', async () => {
    const { id, text } = message(at('bob'), 'The launch code is 0000.\n');
    await sendMail({ port, from: 'alice@sender.test', to: [at('bob')], data: text });
    const mail = await delivered('bob', id);
    parsePgpMime(mail);
    assert.match(outerHeader(mail, 'x-spam-status')[0] ?? '', /^X-Spam-Status: No, score=/);
    assert.equal(outerHeader(mail, 'x-spam-checker-version').length, 1);
    assert.deepEqual(outerHeader(mail, 'subject'), ['Subject: [...]']);
    assert.ok(!mail.includes('launch code'), 'no plaintext body in the stored mail');
    const inner = (await decryptWithGpg(mail, keys.bob.privateArmored)).toString('latin1');
    assert.match(inner, /\r\nSubject: e2e case \d+\r\n/);
    assert.match(inner, /\r\n\r\nThe launch code is 0000\.\r\n/);
    await logShows(
      /relay=pgpipe, .*status=sent \(delivered via pgpipe service \(2\.0\.0 pgpipe: 1 rcpt: encrypted [0-9A-F]{16}/,
    );
  });

  it('keyless user: arrives as sent (plus the spam verdict)', async () => {
    const body = 'No key here.\nSecond line.\n';
    const { id, text } = message(at('dave'), body);
    await sendMail({ port, from: 'alice@sender.test', to: [at('dave')], data: text });
    const mail = await delivered('dave', id);
    const parsed = splitRaw(mail);
    assert.equal(parsed.body.toString('latin1'), body);
    assert.equal(outerHeader(mail, 'subject')[0], `Subject: e2e case ${counter}`);
    assert.equal(outerHeader(mail, 'x-spam-status').length, 1);
  });

  for (const [name, which] of [
    ['recommended service, one run per recipient', 'pgpipe'],
    ["tutorial's gpgit-pipe line, one run for both", 'tutorial'],
  ] as const) {
    it(`two keyed users in one SMTP transaction (${name}): each reads only their own copy`, async () => {
      const { id, text } = message(`${at('bob')}, ${at('carol')}`, 'For both of you.\n');
      await sendMail({
        port: which === 'pgpipe' ? port : tutorialPort,
        from: 'alice@sender.test',
        to: [at('bob'), at('carol')],
        data: text,
      });
      const [toBob, toCarol] = await Promise.all([delivered('bob', id), delivered('carol', id)]);
      assert.match((await decryptWithGpg(toBob, keys.bob.privateArmored)).toString(), /For both of you\./);
      assert.match((await decryptWithGpg(toCarol, keys.carol.privateArmored)).toString(), /For both of you\./);
      await assert.rejects(decryptWithGpg(toBob, keys.carol.privateArmored));
      await assert.rejects(decryptWithGpg(toCarol, keys.bob.privateArmored));
      if (which === 'tutorial') {
        // Without a recipient limit, pipe(8) ran the filter once for both (same domain), one status for two.
        await logShows(/relay=gpgit-pipe, .*status=sent \(delivered via gpgit-pipe service \(2\.0\.0 pgpipe: 2 rcpts/);
      }
    });
  }

  it('GTUBE spam: X-Spam-Flag: YES visible outside the encryption', async () => {
    const { id, text } = message(at('bob'), `Buy now.\n${GTUBE}\n`);
    await sendMail({ port, from: 'alice@sender.test', to: [at('bob')], data: text });
    const mail = await delivered('bob', id);
    parsePgpMime(mail);
    assert.deepEqual(outerHeader(mail, 'x-spam-flag'), ['X-Spam-Flag: YES']);
    assert.match(outerHeader(mail, 'x-spam-status')[0] ?? '', /^X-Spam-Status: Yes, score=/);
    assert.match((await decryptWithGpg(mail, keys.bob.privateArmored)).toString('latin1'), /GTUBE/);
  });

  it('already-encrypted mail: delivered unchanged (body byte for byte)', async () => {
    const original = readFileSync(new URL('../fixtures/mail/pgp-mime-encrypted.eml', import.meta.url));
    const id = `<e2e-${process.pid}-pgpmime@sender.test>`;
    const text = original.toString('latin1').replace(/^Message-ID: .*$/m, `Message-ID: ${id}`);
    await sendMail({ port, from: 'alice@sender.test', to: [at('bob')], data: text });
    const mail = await delivered('bob', id);
    assert.deepEqual(splitRaw(mail).body, splitRaw(Buffer.from(text, 'latin1')).body);
    assert.equal(outerHeader(mail, 'content-type').length, 1);
    await logShows(/unchanged \(already encrypted\)/);
  });

  it('a bounce (null sender) is re-injected with the null sender and encrypted', async () => {
    const { id, text } = message(
      at('bob'),
      'Delivery Status Notification: your message could not be delivered.\n',
      'Auto-Submitted: auto-replied\n',
    );
    await sendMail({ port, from: '', to: [at('bob')], data: text });
    const mail = await delivered('bob', id);
    assert.deepEqual(outerHeader(mail, 'return-path'), ['Return-Path: <>']);
    parsePgpMime(mail);
  });

  it('PostgreSQL stopped: the message waits in the deferred queue (not bounced), then arrives encrypted', async () => {
    await pg.stopServer();
    let restarted = false;
    try {
      const { id, text } = message(at('carol'), 'Sent while the database was down.\n');
      const queueId = queueIdOf(await sendMail({ port, from: 'alice@sender.test', to: [at('carol')], data: text }));
      const entry = await waitFor(
        'the deferred queue entry',
        async () => (await postfix.queue()).find((e) => e.queue_id === queueId && e.queue_name === 'deferred'),
        WAIT_MS,
        () => postfix.maillog(),
      );
      assert.match(entry.recipients[0]?.delay_reason ?? '', /^pgpipe: database unavailable/);
      await logShows(new RegExp(`${queueId}: to=<${at('carol')}>, relay=pgpipe, .*dsn=4\\.3\\.0, status=deferred`));
      assert.doesNotMatch(postfix.maillog(), /status=bounced/);
      assert.equal(findDelivered('carol', id), undefined);
      await pg.startServer();
      restarted = true;
      await postfix.flush();
      const mail = await delivered('carol', id);
      assert.match((await decryptWithGpg(mail, keys.carol.privateArmored)).toString(), /database was down/);
    } finally {
      if (!restarted) await pg.startServer();
    }
  });

  it('sendmail failing (submission refused): deferred with 4.3.0, delivered once sendmail works again', async () => {
    // A real sendmail(1) failure: authorized_submit_users refuses the filter's user and sendmail exits non-zero
    // (75 with Postfix 3.7; other failures such as message_size_limit give 69, which would bounce if passed on).
    await postfix.postconf('authorized_submit_users = root');
    let restored = false;
    try {
      const { id, text } = message(at('bob'), 'Sent while sendmail was refusing.\n');
      const queueId = queueIdOf(await sendMail({ port, from: 'alice@sender.test', to: [at('bob')], data: text }));
      const entry = await waitFor(
        'the deferred queue entry',
        async () => (await postfix.queue()).find((e) => e.queue_id === queueId && e.queue_name === 'deferred'),
        WAIT_MS,
        () => postfix.maillog(),
      );
      assert.match(entry.recipients[0]?.delay_reason ?? '', /^pgpipe: re-injection failed \(sendmail exit \d+\)/);
      await logShows(new RegExp(`${queueId}: to=<${at('bob')}>, relay=pgpipe, .*dsn=4\\.3\\.0, status=deferred`));
      await postfix.postconf('authorized_submit_users = static:anyone');
      restored = true;
      await postfix.flush();
      const mail = await delivered('bob', id);
      assert.match((await decryptWithGpg(mail, keys.bob.privateArmored)).toString(), /sendmail was refusing/);
      assert.doesNotMatch(postfix.maillog(), /status=bounced/);
    } finally {
      if (!restored) await postfix.postconf('authorized_submit_users = static:anyone');
    }
  });
});
