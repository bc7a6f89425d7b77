#!/usr/bin/env node
// `npm run demo`: the whole job on a machine with no database server. Creates a demo user with a fresh key in the
// embedded store, encrypts a sample message with `pgpipe encrypt`, shows the PGP/MIME result and decrypts it back.
// The demo's private key lives only in this process's memory; nothing but the public key is stored.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as openpgp from 'openpgp';

const bin = fileURLToPath(new URL('../bin/pgpipe', import.meta.url));
const address = 'demo@pgpipe.example';
// The demo always uses the embedded store, whatever /etc/pgpipe/pgpipe.conf or the environment say.
const env = { ...process.env, PGPIPE_CONFIG: '/dev/null' };
delete env.PGPIPE_DATABASE_URL;

function pgpipe(args, input) {
  const result = spawnSync(process.execPath, [bin, ...args], { input, env, maxBuffer: 64 * 1024 * 1024 });
  return { code: result.status, stdout: result.stdout ?? Buffer.alloc(0), stderr: String(result.stderr ?? '') };
}

function step(text) {
  process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);
}

function must(result, what) {
  if (result.code !== 0) {
    process.stderr.write(`demo: ${what} failed (exit ${result.code}): ${result.stderr}`);
    process.exit(1);
  }
  return result;
}

step(`generating a Curve25519 key for ${address} (OpenPGP.js; only the public half is stored)`);
const { privateKey, publicKey } = await openpgp.generateKey({
  // Legacy (v4) Curve25519, as GnuPG 2.2 makes it: RFC 9580's X25519 subkeys are refused (GnuPG 2.2 cannot read them).
  type: 'ecc',
  curve: 'curve25519Legacy',
  userIDs: [{ name: 'pgpipe demo', email: address }],
  format: 'armored',
});
const fingerprint = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint().toUpperCase();
console.log(`fingerprint ${fingerprint}`);

step('pgpipe db init && pgpipe user add (the embedded store: no database server needed)');
must(pgpipe(['db', 'init']), 'db init');
// The public key goes through a file (stdin carries the password); it is public, the password random and unused.
const keyDir = mkdtempSync(join(tmpdir(), 'pgpipe-demo-'));
const keyFile = join(keyDir, 'demo.pub.asc');
writeFileSync(keyFile, publicKey);
const exists = pgpipe(['user', 'list', '--json']).stdout.toString().includes(address);
if (exists)
  must(pgpipe(['key', 'set', address, keyFile]), 'key set'); // the demo ran before: rotate its key
else
  must(
    pgpipe(['user', 'add', address, '--key', keyFile, '--password-stdin'], `${randomBytes(12).toString('hex')}\n`),
    'user add',
  );
rmSync(keyDir, { recursive: true, force: true });
process.stdout.write(must(pgpipe(['key', 'show', address]), 'key show').stdout);

const sample = [
  'From: Alice <alice@example.net>',
  `To: Demo <${address}>`,
  'Subject: =?UTF-8?Q?The_plan_for_Montag_=E2=80=94_secret?=',
  'Date: Sat, 21 Nov 2026 10:00:00 +0000',
  'Message-ID: <demo-1@example.net>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: 8bit',
  '',
  'Grüße! This text is encrypted before it ever reaches the mailbox.',
  '',
].join('\n');

step(`pgpipe encrypt --to ${address} < sample.eml`);
const encrypted = must(pgpipe(['encrypt', '--to', address], Buffer.from(sample)), 'encrypt').stdout.toString('latin1');
const lines = encrypted.split('\n');
const armorStart = lines.findIndex((l) => l.startsWith('-----BEGIN PGP MESSAGE'));
const armorEnd = lines.findIndex((l) => l.startsWith('-----END PGP MESSAGE'));
console.log(
  [
    ...lines.slice(0, armorStart + 3),
    `[... ${armorEnd - armorStart - 3} more lines of armor ...]`,
    ...lines.slice(armorEnd),
  ].join('\n'),
);

step("decrypting with the demo private key (what the recipient's mail client does)");
const armored = lines.slice(armorStart, armorEnd + 1).join('\n');
const { data } = await openpgp.decrypt({
  message: await openpgp.readMessage({ armoredMessage: armored }),
  decryptionKeys: await openpgp.readPrivateKey({ armoredKey: privateKey }),
  format: 'binary',
});
const inner = Buffer.from(data).toString('utf8');
console.log(inner);

const body = 'Grüße! This text is encrypted before it ever reaches the mailbox.';
const ok = inner.includes(body) && inner.includes('protected-headers="v1"') && /Subject: \[\.\.\.\]/.test(encrypted);
step(ok ? 'round trip OK: body intact, real Subject only inside the encryption' : 'round trip FAILED');
console.log(`Try it yourself:  bin/pgpipe encrypt --to ${address} < some-message.eml`);
process.exit(ok ? 0 : 1);
