#!/usr/bin/env node
// `node bench/mailbox.js`: how fast `pgpipe mailbox encrypt` works through a stored mailbox, on a private Dovecot
// (test/e2e/dovecot-instance.ts) and a throwaway PostgreSQL. Two runs: the test corpus (every fixture, --copies
// times, stored over IMAP), and --messages small messages written straight into Maildir/cur before Dovecot has
// seen them (generating 10,000 through doveadm save would take longer than encrypting them). Prints messages per
// second for each. Needs root (Dovecot's mail users), like the Dovecot tests.
// Options: --messages N (default 10000), --copies N (default 5), --keep (print the instance dir, leave it).
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    copies: { type: 'string', default: '5' },
    keep: { type: 'boolean', default: false },
  },
});
const { tsImport } = await import('tsx/esm/api');
const load = (path) => tsImport(join(root, path), import.meta.url);
const modules = await Promise.all([
  load('test/e2e/dovecot-instance.ts'),
  load('test/helpers/pg-cluster.ts'),
  load('test/helpers/keys.ts'),
  load('test/helpers/seed.ts'),
  load('test/helpers/corpus.ts'),
  load('test/e2e/pgpipe-install.ts'),
]);
const [{ startDovecot }, { startPostgres }, { makeKey }, { seedStore }, { CORPUS }, { ensureUser }] = modules;
await ensureUser('pgpipe'); // the owner of the LMTP listener in postfix-snippets/dovecot.conf

const DOMAIN = 'bench.test';
const [dovecot, pg, key] = await Promise.all([
  startDovecot({ domain: DOMAIN, users: ['corpus', 'small'] }),
  startPostgres(),
  makeKey({ kind: 'curve25519', email: `corpus@${DOMAIN}` }),
]);
await seedStore(
  { databaseUrl: pg.url },
  ['corpus', 'small'].map((u) => ({ email: `${u}@${DOMAIN}`, pgpkey: key.publicArmored })),
);

function encrypt(user) {
  const started = process.hrtime.bigint();
  const result = spawnSync(
    process.execPath,
    [
      join(root, 'bin/pgpipe'),
      'mailbox',
      'encrypt',
      '--user',
      `${user}@${DOMAIN}`,
      '--db',
      pg.url,
      '--dovecot-config',
      dovecot.configFile,
      '--json',
    ],
    {
      env: { PATH: process.env.PATH, PGPIPE_CONFIG: '/dev/null' },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 26,
    },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`mailbox encrypt exited ${result.status}`);
  const summary = JSON.parse(result.stdout.toString());
  const encrypted = summary.mailboxes.reduce((n, m) => n + m.encrypted, 0);
  const messages = summary.mailboxes.reduce((n, m) => n + m.messages, 0);
  return { seconds, encrypted, messages };
}

try {
  // The corpus, over IMAP (as a client would have stored it), --copies times.
  const corpus = CORPUS.map((c) => readFileSync(c.file));
  const commands = [];
  for (let copy = 0; copy < Number(opts.copies); copy++) {
    corpus.forEach((m, i) =>
      commands.push(Buffer.concat([Buffer.from(`a${copy}-${i} APPEND INBOX (\\Seen) {${m.length}+}\r\n`), m])),
    );
  }
  await dovecot.imap('corpus', commands);
  const a = encrypt('corpus');
  console.log(
    `corpus: ${a.messages} messages (${a.encrypted} encrypted, the rest already protected) in ` +
      `${a.seconds.toFixed(1)} s: ${(a.messages / a.seconds).toFixed(1)} messages/s`,
  );

  // N small messages written as Maildir files (owned by the mail user) before Dovecot indexes them.
  const n = Number(opts.messages);
  const cur = join(dovecot.home('small'), 'Maildir', 'cur');
  for (const sub of ['', 'cur', 'new', 'tmp']) {
    mkdirSync(join(dovecot.home('small'), 'Maildir', sub), { recursive: true });
    chownSync(join(dovecot.home('small'), 'Maildir', sub), 65534, 65534);
  }
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < n; i++) {
    const file = join(cur, `${now - n + i}.M${i}P${process.pid}.bench:2,S`);
    writeFileSync(
      file,
      `From: Alice <alice@sender.test>\nTo: small@${DOMAIN}\nSubject: Message ${i}\n` +
        `Date: Tue, 01 Dec 2026 07:00:00 +0000\nMessage-ID: <bench-${i}@sender.test>\n\n` +
        `${'A short line of text in a small message.\n'.repeat(20)}`,
    );
    chownSync(file, 65534, 65534);
  }
  const b = encrypt('small');
  console.log(
    `small: ${b.messages} messages (${b.encrypted} encrypted) in ${b.seconds.toFixed(1)} s: ` +
      `${(b.messages / b.seconds).toFixed(1)} messages/s`,
  );
} finally {
  if (opts.keep) console.log(`kept: ${dovecot.dir}`);
  else await dovecot.destroy();
  await pg.stop();
}
