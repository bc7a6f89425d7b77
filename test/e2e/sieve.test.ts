// `pgpipe encrypt` as a Dovecot Sieve filter (Pigeonhole sieve_extprograms, vnd.dovecot.filter), through a real
// Dovecot 2.3 LMTP delivery: the README's recipe stores the message encrypted (gpg decrypts it), with the
// environment Dovecot gives the program recorded; and the documented limitation is asserted: when the filter
// fails (database unreachable, or the default 256M vsz_limit, under which Node cannot start) Dovecot stores the
// PLAINTEXT and still answers 250. That is why the README points at `pgpipe deliver` for a fail-closed setup.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decryptWithGpg, parsePgpMime } from '../helpers/decrypt.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { seedStore } from '../helpers/seed.js';
import { startDovecot, type DovecotInstance } from './dovecot-instance.js';
import { ensureUser, installedPgpipe } from './pgpipe-install.js';
import { sendLmtp } from './sieve-lmtp-client.js';

const run = promisify(execFile);
const DOMAIN = 'e2e.test';
const BOB = `bob@${DOMAIN}`;

const skipReason = ((): string | false => {
  if (process.env.CI === 'true') return false;
  if (process.getuid?.() !== 0) return 'needs root (Dovecot instance, mail uid nobody)';
  for (const tool of [
    '/usr/sbin/dovecot',
    '/usr/lib/dovecot/lmtp',
    '/usr/bin/sievec',
    '/usr/lib/dovecot/modules/sieve/lib90_sieve_extprograms_plugin.so',
    '/usr/lib/postgresql/15/bin/initdb',
  ]) {
    if (!existsSync(tool)) return `${tool} not installed`;
  }
  return false;
})();

let pg: PgCluster;
let dovecot: DovecotInstance;
let app: { bin: string; remove(): void } | undefined;
let bob: TestKey;
let dir: string;
let counter = 0;

/** The README's wrapper: Dovecot runs filters without PATH, so node and pgpipe are named by absolute path. */
const wrapper = (bin: string): string => `#!/bin/sh
# What Dovecot hands the program (names only; the test asserts on them).
env | sed 's/=.*//' | sort > ${dir}/filter-env
PGPIPE_CONFIG=${dir}/pgpipe.conf
export PGPIPE_CONFIG
exec ${process.execPath} ${bin} "$@"
`;

// The README's global script: every delivery goes through pgpipe, to the envelope recipient, in gpgit's argv form
// (the recipient as a plain argument).
const SCRIPT = `require ["vnd.dovecot.filter", "envelope", "variables"];
if envelope :matches "to" "*" {
  filter "pgpipe" ["encrypt", "\${1}"];
}
`;

const sieveConfig = (vsz: string): string => `
protocol lmtp {
  mail_plugins = $mail_plugins sieve
}
service lmtp {
  vsz_limit = ${vsz}
}
plugin {
  sieve_plugins = sieve_extprograms
  sieve_global_extensions = +vnd.dovecot.filter
  sieve_filter_bin_dir = ${dir}/sieve-filter
  sieve_before = ${dir}/sieve/pgpipe.sieve
}
`;

function testMessage(size = 0): { marker: string; bytes: Buffer } {
  const marker = `sieve-marker-${process.pid}-${++counter}`;
  const filler = size > 0 ? `${'x'.repeat(75)}\n`.repeat(Math.ceil(size / 76)) : '';
  // The marker is in the Subject and body only: Message-ID stays outside the encryption.
  const text =
    `From: alice@elsewhere.example\nTo: ${BOB}\nSubject: ${marker} subject\n` +
    `Message-ID: <m${counter}.${process.pid}@test>\n` +
    `Date: Tue, 01 Dec 2026 12:00:00 +0000\nContent-Type: text/plain; charset=us-ascii\n\nbody ${marker}\n${filler}`;
  return { marker, bytes: Buffer.from(text) };
}

async function deliverToBob(size = 0): Promise<{ marker: string; stored: Buffer; reply: string }> {
  const before = dovecot.messages('bob');
  const message = testMessage(size);
  const socket = dovecot.lmtpUnix.slice('unix:'.length);
  const { replies } = await sendLmtp(socket, 'alice@elsewhere.example', [BOB], message.bytes);
  // The new message is the one whose content was not there before (independent of how files are ordered).
  const stored = dovecot.messages('bob').filter((m) => !before.some((b) => b.equals(m)));
  assert.equal(stored.length, 1, dovecot.log().slice(-2000));
  return { marker: message.marker, stored: stored[0] ?? Buffer.alloc(0), reply: replies[0] ?? '' };
}

async function setVszLimit(vsz: string): Promise<void> {
  await dovecot.stop();
  const text = readFileSync(dovecot.configFile, 'utf8').replace(/vsz_limit = \S+/, `vsz_limit = ${vsz}`);
  writeFileSync(dovecot.configFile, text);
  await dovecot.start();
}

describe('pgpipe encrypt as a Dovecot Sieve filter (LMTP)', { skip: skipReason }, () => {
  before(async () => {
    pg = await startPostgres();
    chmodSync(pg.socketDir, 0o755); // the filter runs as the mail user (nobody) and connects over this socket
    bob = await makeKey({ kind: 'curve25519', email: BOB });
    await seedStore({ databaseUrl: pg.url }, [{ email: BOB, pgpkey: bob.publicArmored }]);
    await ensureUser('pgpipe'); // owner of the deliver listener in the harness's snippet
    app = await installedPgpipe(['nobody']);
    dir = mkdtempSync(join(tmpdir(), 'pgpipe-sieve-'));
    chmodSync(dir, 0o755);
    for (const sub of ['sieve-filter', 'sieve']) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, 'sieve-filter', 'pgpipe'), wrapper(app.bin));
    chmodSync(join(dir, 'sieve-filter', 'pgpipe'), 0o755);
    writeFileSync(join(dir, 'pgpipe.conf'), `database_url = ${pg.url}\n`);
    chmodSync(join(dir, 'pgpipe.conf'), 0o644);
    writeFileSync(join(dir, 'sieve', 'pgpipe.sieve'), SCRIPT);
    writeFileSync(join(dir, 'filter-env'), '');
    chmodSync(join(dir, 'filter-env'), 0o666); // the mail user writes it (mode: would be cut by the umask)
    dovecot = await startDovecot({ domain: DOMAIN, users: ['bob'], extraConfig: sieveConfig('2G') });
    // Compiled by root beforehand: the mail user cannot write the .svbin next to a global script.
    await run('sievec', ['-c', dovecot.configFile, join(dir, 'sieve', 'pgpipe.sieve')]);
  });
  after(async () => {
    await dovecot?.destroy();
    await pg?.stop();
    app?.remove();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("stores the message encrypted to the recipient's key; gpg decrypts it", async () => {
    const { marker, stored, reply } = await deliverToBob();
    assert.match(reply, /^250 2\.0\.0 /);
    assert.match(stored.toString('latin1'), /^Content-Type: multipart\/encrypted;/im);
    assert.ok(!stored.includes(marker), `plaintext marker in the stored message:\n${dovecot.log().slice(-3000)}`);
    const plain = await decryptWithGpg(parsePgpMime(stored).armor, bob.privateArmored);
    assert.ok(plain.includes(`body ${marker}`));
  });

  it('the program gets no PATH: only what Dovecot sets (USER, HOME, HOST, SENDER, RECIPIENT, ORIG_RECIPIENT)', () => {
    const names = readFileSync(join(dir, 'filter-env'), 'utf8')
      .split('\n')
      .filter((n) => n !== '' && n !== 'PWD');
    assert.ok(!names.includes('PATH'), names.join(' '));
    for (const name of ['USER', 'HOME']) assert.ok(names.includes(name), `${name} missing: ${names.join(' ')}`);
  });

  it('a 10 MB message is encrypted within vsz_limit = 2G', async () => {
    const { marker, stored } = await deliverToBob(10 * 1024 * 1024);
    assert.match(stored.toString('latin1'), /^Content-Type: multipart\/encrypted;/im);
    assert.ok(!stored.includes(marker));
  });

  it('LIMITATION: a failing filter (database unreachable) still answers 250 and stores the plaintext', async () => {
    const conf = join(dir, 'pgpipe.conf');
    writeFileSync(conf, `database_url = postgresql:///mailstore_db?host=${dir}/no-such-socket\n`);
    try {
      const { marker, stored, reply } = await deliverToBob();
      assert.match(reply, /^250 2\.0\.0 /);
      assert.ok(
        stored.includes(`body ${marker}`),
        `Dovecot was expected to keep the plaintext:\n${stored.toString('latin1').slice(0, 1500)}\n` +
          dovecot.log().slice(-1500),
      );
      assert.doesNotMatch(stored.toString('latin1'), /multipart\/encrypted/);
      assert.match(dovecot.log(), /pgpipe/);
    } finally {
      writeFileSync(conf, `database_url = ${pg.url}\n`);
    }
  });

  it("LIMITATION: under Dovecot's default vsz_limit (256M) Node cannot start; the plaintext is stored", async () => {
    await setVszLimit('256M');
    try {
      const { marker, stored } = await deliverToBob();
      assert.ok(stored.includes(`body ${marker}`), 'Dovecot was expected to keep the plaintext');
    } finally {
      await setVszLimit('2G');
    }
    const { stored } = await deliverToBob();
    assert.match(stored.toString('latin1'), /multipart\/encrypted/);
  });
});
