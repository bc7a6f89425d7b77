// `pgpipe mailbox encrypt` against a real private Dovecot 2.3 (test/e2e/dovecot-instance.ts) and a real PostgreSQL:
// the corpus plus marked messages in INBOX, a subfolder and Sent, stored over IMAP with their own flags, keywords
// and INTERNALDATE, and read over IMAP (so dovecot.index.cache holds their Subjects and snippets). Then: --dry-run
// changes nothing, a keyless user is refused, runs SIGKILLed at random points lose nothing, the next run finishes,
// every message decrypts to its original with flags and date intact, a second run changes nothing, and no file
// under the user's home (messages, dovecot.index*, dovecot-uidlist, tmp/) still holds a plaintext marker.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CORPUS } from '../helpers/corpus.js';
import { decryptWithGpg, parsePgpMime } from '../helpers/decrypt.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { splitRaw } from '../helpers/raw-mime.js';
import { PGPIPE_BIN, runCli, type CliResult } from '../helpers/run-cli.js';
import { seedStore } from '../helpers/seed.js';
import { checkPayload } from '../roundtrip/check-encrypted.js';
import { startDovecot, type DovecotInstance } from '../e2e/dovecot-instance.js';
import { ensureUser } from '../e2e/pgpipe-install.js';

const DOMAIN = 'e2e.test';
const BOB = `bob@${DOMAIN}`;
const EVE = `eve@${DOMAIN}`;
const CAROL = `carol@${DOMAIN}`;
const MAILBOXES = ['INBOX', 'Archive.2024', 'Sent'] as const;
const FLAG_SETS = [[], ['\\Seen'], ['\\Seen', '\\Flagged', '$Work'], ['\\Answered', 'NonJunk'], ['\\Seen', '$label1']];

const skipReason = ((): string | false => {
  if (process.env.CI === 'true') return false;
  if (process.getuid?.() !== 0) return 'needs root (a private Dovecot with its own mail users)';
  for (const tool of ['/usr/sbin/dovecot', '/usr/lib/dovecot/imap', '/usr/lib/postgresql/15/bin/initdb']) {
    if (!existsSync(tool)) return `${tool} not installed`;
  }
  return false;
})();

interface Stored {
  readonly mailbox: string;
  readonly original: Buffer;
  readonly flags: readonly string[];
  /** Unique per message: it identifies the message after encryption (INTERNALDATE is kept). */
  readonly date: string;
  readonly expect: 'encrypt' | 'pass';
  readonly brokenMime: boolean;
  readonly marker?: string;
}

let pg: PgCluster;
let dovecot: DovecotInstance;
let bob: TestKey;
let carol: TestKey;
const stored: Stored[] = [];

const doveadm = (...args: string[]): Buffer => {
  const result = spawnSync('doveadm', ['-c', dovecot.configFile, ...args], { maxBuffer: 1 << 30 });
  assert.equal(result.status, 0, `doveadm ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
};
const encrypt = (...args: string[]): Promise<CliResult> =>
  runCli(['mailbox', 'encrypt', '--db', pg.url, '--dovecot-config', dovecot.configFile, ...args], {
    timeoutMs: 120_000,
  });

interface Seen {
  readonly uid: number;
  readonly flags: string[];
  readonly date: string;
}
/** What an IMAP client sees in a mailbox: UID, flags (without \Recent, which only says who looked first), date. */
async function imapView(mailbox: string): Promise<Seen[]> {
  const out = await dovecot.imap('bob', [`a EXAMINE "${mailbox}"`, 'b UID FETCH 1:* (UID FLAGS INTERNALDATE)']);
  assert.match(out, /^b OK/m, out);
  return [...out.matchAll(/^\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\) INTERNALDATE "([^"]+)"\)/gm)].map((m) => ({
    uid: Number(m[1]),
    flags: (m[2] ?? '')
      .split(' ')
      .filter((f) => f !== '' && f !== '\\Recent')
      .sort(),
    date: m[3] ?? '',
  }));
}
const storedTextOf = (user: string, mailbox: string, uid: number): Buffer =>
  doveadm('-f', 'pager', 'fetch', '-u', user, 'text', 'mailbox', mailbox, 'uid', String(uid)).subarray(
    'text:\n'.length,
  );
const storedText = (mailbox: string, uid: number): Buffer => storedTextOf(BOB, mailbox, uid);

/**
 * Every message is there at least once (original or copy), none more than twice (original and its copy); returns
 * how many are there twice (a kill between storing the copy and expunging the original).
 */
async function assertNothingLost(): Promise<number> {
  let pairs = 0;
  for (const mailbox of MAILBOXES) {
    const dates = (await imapView(mailbox)).map((m) => m.date);
    for (const s of stored.filter((x) => x.mailbox === mailbox)) {
      const n = dates.filter((d) => d === s.date).length;
      assert.ok(n === 1 || n === 2, `${mailbox} ${s.date}: ${n} copies`);
      if (n === 2) pairs += 1;
    }
    assert.ok(
      dates.every((d) => stored.some((s) => s.date === d)),
      `${mailbox}: nothing new but copies`,
    );
  }
  return pairs;
}

describe('pgpipe mailbox encrypt on a real Dovecot', { skip: skipReason, timeout: 300_000 }, () => {
  before(async () => {
    await ensureUser('pgpipe'); // the owner of the LMTP listener in postfix-snippets/dovecot.conf
    [pg, dovecot, bob, carol] = await Promise.all([
      startPostgres(),
      startDovecot({ domain: DOMAIN, users: ['bob', 'eve', 'carol'] }),
      makeKey({ kind: 'curve25519', email: BOB }),
      makeKey({ kind: 'curve25519', email: CAROL }),
    ]);
    await seedStore({ databaseUrl: pg.url }, [
      { email: BOB, pgpkey: bob.publicArmored },
      { email: EVE, pgpkey: '' },
      { email: CAROL, pgpkey: carol.publicArmored },
    ]);
    doveadm('mailbox', 'create', '-u', BOB, 'Archive.2024', 'Sent');
    doveadm('mailbox', 'create', '-u', EVE, 'Sent');
    const messages: Omit<Stored, 'mailbox' | 'flags' | 'date'>[] = CORPUS.map((c) => ({
      original: readFileSync(c.file),
      expect: c.expect,
      brokenMime: c.brokenMime === true,
    }));
    for (let i = 0; i < 6; i++) {
      const marker = `PLAINMBX${i}X${randomBytes(6).toString('hex')}`;
      const original = Buffer.from(
        `From: Alice <alice@sender.test>\nTo: ${BOB}\nSubject: Secret ${marker}\n` +
          `Date: Tue, 01 Dec 2026 07:00:00 +0000\nMessage-ID: <mbx-${i}@sender.test>\n\nBody of ${marker}.\n`,
      );
      messages.push({ original, expect: 'encrypt', brokenMime: false, marker });
    }
    const commands: (string | Buffer)[] = [];
    messages.forEach((m, i) => {
      const s: Stored = {
        ...m,
        mailbox: MAILBOXES[i % 3] as string,
        flags: FLAG_SETS[i % FLAG_SETS.length] ?? [],
        date: `${String(1 + (i % 28)).padStart(2, '0')}-Mar-2021 10:${String(i).padStart(2, '0')}:07 +0000`,
      };
      stored.push(s);
      commands.push(
        Buffer.concat([
          Buffer.from(
            `a${i} APPEND "${s.mailbox}" (${s.flags.join(' ')}) "${s.date}" ` + `{${s.original.length}+}\r\n`,
          ),
          s.original,
        ]),
      );
    });
    // A client reading everything: the cache now holds envelopes (Subject) and previews (body text).
    for (const mailbox of MAILBOXES) {
      commands.push(`s-${mailbox} SELECT "${mailbox}"`, `f-${mailbox} FETCH 1:* (ENVELOPE BODYSTRUCTURE PREVIEW)`);
    }
    const out = await dovecot.imap('bob', commands);
    assert.equal(out.match(/^a\d+ OK \[APPENDUID/gm)?.length, messages.length, out);
    await dovecot.imap('eve', [`a APPEND INBOX () {${stored[0]?.original.length}+}`, stored[0]?.original ?? '']);
    const cache = dovecot.files('bob').filter((f) => f.path.endsWith('dovecot.index.cache'));
    assert.ok(
      cache.some((f) => f.content.includes(stored.find((s) => s.marker)?.marker ?? '-')),
      'the test is meaningful: the cache holds a plaintext marker before',
    );
  });
  after(async () => {
    await dovecot?.destroy();
    await pg?.stop();
  });

  it('--dry-run counts what would change and changes nothing', async () => {
    const before = dovecot
      .files('bob')
      .filter((f) => !f.path.includes('dovecot.index'))
      .map((f) => f.path)
      .sort();
    const result = await encrypt('--user', BOB, '--dry-run', '--json');
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout.toString()) as {
      mailboxes: { mailbox: string; messages: number; encrypted: number; alreadyProtected: number }[];
    };
    for (const mailbox of MAILBOXES) {
      const mine = stored.filter((s) => s.mailbox === mailbox);
      const got = summary.mailboxes.find((m) => m.mailbox === mailbox);
      assert.deepEqual(got && [got.messages, got.encrypted, got.alreadyProtected], [
        mine.length,
        mine.filter((s) => s.expect === 'encrypt').length,
        mine.filter((s) => s.expect === 'pass').length,
      ]);
    }
    const after = dovecot
      .files('bob')
      .filter((f) => !f.path.includes('dovecot.index'))
      .map((f) => f.path)
      .sort();
    assert.deepEqual(after, before);
  });

  it('refuses a user without a usable key, with the reason, and touches nothing', async () => {
    const before = await imapViewOf('eve');
    const result = await encrypt('--user', EVE);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^pgpipe: eve@e2e\.test: no key stored.*nothing changed\n$/);
    assert.deepEqual(await imapViewOf('eve'), before);
    const unknown = await encrypt('--user', BOB, '--mailbox', 'Nope');
    assert.equal(unknown.code, 64);
    assert.match(unknown.stderr, /no mailbox "Nope"/);
  });

  it('finishes a pair an interrupted run left, and trusts no X-Pgpipe-Replaces without its keyword', async () => {
    const plain = (n: number): Buffer =>
      Buffer.from(`From: a@sender.test\nTo: ${CAROL}\nSubject: pair ${n}\n\nbody ${n}\n`);
    const save = async (message: Buffer, flags: string, date: string): Promise<void> => {
      const out = await dovecot.imap('carol', [
        Buffer.concat([Buffer.from(`a APPEND INBOX (${flags}) "${date}" ` + `{${message.length}+}\r\n`), message]),
      ]);
      assert.match(out, /^a OK/m, out);
    };
    const guid = (uid: number): string =>
      doveadm('-f', 'tab', 'fetch', '-u', CAROL, 'guid', 'mailbox', 'INBOX', 'uid', String(uid))
        .toString()
        .split('\n')[1] ?? '';
    const copyOf = async (message: Buffer, replaces: string): Promise<Buffer> => {
      const result = await runCli(['encrypt', '--db', pg.url, '--to', CAROL], { input: message });
      assert.equal(result.code, 0, result.stderr);
      return Buffer.concat([Buffer.from(`X-Pgpipe-Replaces: ${replaces}\n`), result.stdout]);
    };
    await save(plain(1), '\\Seen', '02-Feb-2022 10:00:00 +0000'); // UID 1: the original of an unfinished pair
    await save(plain(2), '', '03-Feb-2022 10:00:00 +0000'); // UID 2: plaintext a forged copy claims to replace
    await save(await copyOf(plain(1), guid(1)), '\\Seen $PgpipePending', '02-Feb-2022 10:00:00 +0000'); // UID 3
    await save(await copyOf(plain(9), guid(2)), '', '04-Feb-2022 10:00:00 +0000'); // UID 4: forged, no keyword
    await save(await copyOf(plain(8), 'gone-guid'), '$PgpipePending', '05-Feb-2022 10:00:00 +0000'); // UID 5
    const result = await encrypt('--user', CAROL, '--json');
    assert.equal(result.code, 0, result.stderr);
    const [inbox] = (JSON.parse(result.stdout.toString()) as { mailboxes: object[] }).mailboxes;
    assert.deepEqual(inbox, { mailbox: 'INBOX', messages: 4, encrypted: 1, alreadyProtected: 1, finished: 2, gone: 0 });
    const out = await dovecot.imap('carol', ['a EXAMINE INBOX', 'b UID FETCH 1:* (UID FLAGS INTERNALDATE)']);
    const seen = [...out.matchAll(/^\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\) INTERNALDATE "([^"]+)"/gm)].map((m) => [
      Number(m[1]),
      (m[2] ?? '').replace(/\\Recent ?/, '').trim(),
      m[3],
    ]);
    // The pair's copy kept (UID 3, not encrypted twice), the forged copy and plaintext 2 (now UID 6) both kept.
    assert.deepEqual(seen, [
      [3, '\\Seen', '02-Feb-2022 10:00:00 +0000'],
      [4, '', '04-Feb-2022 10:00:00 +0000'],
      [5, '', '05-Feb-2022 10:00:00 +0000'],
      [6, '', '03-Feb-2022 10:00:00 +0000'],
    ]);
    const inner = await decryptWithGpg(storedTextOf(CAROL, 'INBOX', 6), carol.privateArmored);
    assert.match(inner.toString(), /body 2/);
  });

  it('survives SIGKILL at random points and finishes on the next run', async (t) => {
    let killed = 0;
    let pairs = 0;
    for (let round = 0; round < 4; round++) {
      if (await killedRun(1 + (round % MAILBOXES.length))) killed += 1;
      pairs += await assertNothingLost();
    }
    assert.ok(killed > 0, 'at least one run was killed while it worked');
    // The window between APPEND and EXPUNGE is a few ms, so a pair is left only sometimes; the pair case itself is
    // the deterministic test above.
    t.diagnostic(`${killed} runs killed; ${pairs} original+copy pairs left for the next run`);
    const result = await encrypt('--user', BOB);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout.toString(), /^bob@e2e\.test: 3 mailbox\(es\)/);
  });

  it('leaves every message encrypted to its original, flags and received date intact', async () => {
    for (const mailbox of MAILBOXES) {
      const view = await imapView(mailbox);
      const mine = stored.filter((s) => s.mailbox === mailbox);
      assert.equal(view.length, mine.length, `${mailbox}: IMAP shows as many messages as before`);
      for (const s of mine) {
        const seen = view.find((m) => m.date === s.date);
        assert.ok(seen, `${mailbox} ${s.date} is there`);
        assert.deepEqual(seen.flags, [...s.flags].sort(), `${mailbox} ${s.date}: flags and keywords kept`);
        const text = storedText(mailbox, seen.uid);
        if (s.expect === 'pass') {
          assert.ok(text.equals(s.original), `${mailbox} ${s.date}: already protected, left unchanged`);
          continue;
        }
        parsePgpMime(text);
        assert.deepEqual(
          splitRaw(text)
            .fields.filter((f) => f.lower === 'subject')
            .map((f) => f.raw.toString()),
          splitRaw(s.original).fields.some((f) => f.lower === 'subject') ? ['Subject: [...]'] : [],
        );
        const plaintext = await decryptWithGpg(text, bob.privateArmored);
        checkPayload(splitRaw(s.original), plaintext, s.original, '[...]');
      }
    }
  });

  it("leaves no plaintext marker in any file under the user's home, index and cache included", () => {
    const markers = stored.flatMap((s) => (s.marker === undefined ? [] : [s.marker]));
    for (const file of dovecot.files('bob')) {
      for (const marker of markers) assert.ok(!file.content.includes(marker), `${marker} in ${file.path}`);
    }
  });

  it('a second run changes nothing', async () => {
    const before = await Promise.all(MAILBOXES.map(imapView));
    const result = await encrypt('--user', BOB, '--json');
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout.toString()) as { mailboxes: { encrypted: number; finished: number }[] };
    assert.deepEqual(
      summary.mailboxes.map((m) => [m.encrypted, m.finished]),
      MAILBOXES.map(() => [0, 0]),
    );
    assert.deepEqual(await Promise.all(MAILBOXES.map(imapView)), before);
  });
});

async function imapViewOf(user: string): Promise<string> {
  const out = await dovecot.imap(user, ['a EXAMINE INBOX', 'b UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE)']);
  return out
    .split('\n')
    .filter((l) => l.startsWith('* ') && l.includes('FETCH'))
    .join('\n');
}

/**
 * One run killed with SIGKILL a random time (up to 250 ms) after it starts on its `nth` mailbox (1-based); true when
 * the kill hit it (false: it had finished by itself).
 */
function killedRun(nth: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    // Batches of 2: many points where a kill can land (between APPEND and EXPUNGE among them).
    const child = spawn(
      process.execPath,
      [
        PGPIPE_BIN,
        'mailbox',
        'encrypt',
        '--user',
        BOB,
        '--db',
        pg.url,
        '--dovecot-config',
        dovecot.configFile,
        '--batch',
        '2',
      ],
      { env: { PATH: process.env.PATH ?? '', PGPIPE_CONFIG: '/dev/null' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let started = 0;
    child.stderr.on('data', (chunk: Buffer) => {
      const before = started;
      started += chunk.toString().match(/message\(s\)\n/g)?.length ?? 0; // "pgpipe: INBOX: 15 message(s)"
      if (before < nth && started >= nth) setTimeout(() => child.kill('SIGKILL'), randomInt(0, 250));
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      resolve(signal === 'SIGKILL');
    });
  });
}
