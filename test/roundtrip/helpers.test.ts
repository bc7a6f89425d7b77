// Tests of the corpus and of the decrypt helpers themselves: each reader must decrypt a message gpg made, refuse
// a wrong key, and parsePgpMime must reject every RFC 3156 deviation it claims to check.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CORPUS, readFixture } from '../helpers/corpus.js';
import { DECRYPTORS, extractArmor, listPacketsWithGpg, parsePgpMime } from '../helpers/decrypt.js';
import { splitRaw, splitMultipart, toCrlf } from '../helpers/raw-mime.js';

describe('corpus', () => {
  it('lists every fixture file once, each readable in both line-ending variants', () => {
    const names = CORPUS.map((c) => c.name);
    assert.equal(new Set(names).size, names.length, 'names are unique');
    const dir = new URL('../fixtures/mail/', import.meta.url);
    const onDisk = readdirSync(dir)
      .filter((f) => f.endsWith('.eml'))
      .map((f) => f.replace(/\.eml$/, ''));
    assert.deepEqual(onDisk.sort(), names.filter((n) => !n.startsWith('sa-')).sort());
    for (const c of CORPUS) {
      assert.ok(existsSync(c.file), `${c.file} exists (spamassassin package installed?)`);
      const lf = readFixture(c.name, 'lf');
      const crlf = readFixture(c.name, 'crlf');
      assert.ok(lf.length > 0);
      assert.doesNotMatch(lf.toString('latin1'), /\r\n/, `${c.name}: stored with LF line endings`);
      assert.doesNotMatch(crlf.toString('latin1'), /(?<!\r)\n/, `${c.name}: crlf variant has no bare LF`);
      assert.equal(crlf.length - lf.length, lf.toString('latin1').split('\n').length - 1);
    }
  });

  it('has both expectations and every case the corpus must cover', () => {
    const pass = CORPUS.filter((c) => c.expect === 'pass').map((c) => c.name);
    assert.deepEqual(pass.sort(), [
      'pgp-inline',
      'pgp-inline-multipart',
      'pgp-mime-encrypted',
      'pgp-mime-exchange',
      'pgp-mime-exchange-7bit',
      'smime-p7m-attachment',
      'smime-pkcs7',
      'smime-x-pkcs7',
    ]);
    for (const name of [
      'signed-multipart',
      'cleartext-signed',
      'quotes-pgp-block',
      'sa-sample-spam',
      'smime-signed-opaque',
      'pgp-signed-armor',
      'pgp-inline-cleartext-attachment',
    ]) {
      assert.equal(CORPUS.find((c) => c.name === name)?.expect, 'encrypt', name);
    }
  });

  it('keeps the shapes the cases are named for', () => {
    const headersOnly = splitRaw(readFixture('headers-only', 'lf'));
    assert.equal(headersOnly.hasSeparator, false);
    assert.equal(headersOnly.body.length, 0);
    assert.equal(splitRaw(readFixture('no-body', 'crlf')).body.length, 0);
    const junk = readFixture('junk-bytes', 'lf');
    assert.ok(junk.includes(0) && junk.includes(0xff) && junk.at(-1) !== 0x0a);
    const broken = splitRaw(readFixture('broken-mime', 'lf'));
    assert.equal(splitMultipart(broken.body, 'never-closed').closed, false);
    assert.match(readFixture('quotes-pgp-block', 'lf').toString(), /\n\n-----BEGIN PGP MESSAGE-----/);
  });
});

describe('raw-mime', () => {
  it('splits folded fields with their exact bytes, LF and CRLF', () => {
    const lf = Buffer.from('A: 1\nSubject: x\n  y\n\tz\nB: 2\n\nbody\n');
    for (const input of [lf, toCrlf(lf)]) {
      const msg = splitRaw(input);
      assert.deepEqual(
        msg.fields.map((f) => f.name),
        ['A', 'Subject', 'B'],
      );
      const eol = input === lf ? '\n' : '\r\n';
      assert.equal(msg.fields[1]?.raw.toString(), `Subject: x${eol}  y${eol}\tz`);
      assert.equal(msg.body.toString(), `body${eol}`);
    }
  });
  it('sets a leading mbox From_ line aside as the envelope', () => {
    const msg = splitRaw(Buffer.from('From a@b  Sat Nov 21 06:55:00 2026\r\nFrom: a@b\r\n\r\nx\r\n'));
    assert.equal(msg.envelope?.toString(), 'From a@b  Sat Nov 21 06:55:00 2026\r\n');
    assert.deepEqual(
      msg.fields.map((f) => f.name),
      ['From'],
    );
    assert.equal(splitRaw(Buffer.from('From: a@b\n\nx\n')).envelope, null);
  });
  it('ends the header section at a line that is no field', () => {
    const msg = splitRaw(Buffer.from('A: 1\nnot a header\nmore\n'));
    assert.equal(msg.hasSeparator, false);
    assert.equal(msg.body.toString(), 'not a header\nmore\n');
  });
});

// ---- decrypt helpers against a message gpg itself made ----

const PLAINTEXT = Buffer.concat([
  Buffer.from('Content-Type: text/plain; charset=utf-8\r\n\r\nGrüße — 東京\r\n'),
  Buffer.from([0x00, 0xff, 0x0d, 0x0a]),
]);

interface GpgKey {
  readonly email: string;
  readonly publicArmored: string;
  readonly privateArmored: string;
}

function gpgKey(home: string, email: string, algo: 'cv25519' | 'rsa3072'): GpgKey {
  const env = { ...process.env, GNUPGHOME: home };
  const gpg = (...args: string[]) => execFileSync('gpg', ['--batch', '--no-tty', '--quiet', ...args], { env });
  const primary = algo === 'cv25519' ? 'ed25519' : 'rsa3072';
  gpg('--passphrase', '', '--quick-gen-key', `Test <${email}>`, primary, 'sign', '0');
  const fpr = /^fpr:+([0-9A-F]+):/m.exec(gpg('--with-colons', '--list-keys', email).toString())?.[1] ?? '';
  gpg('--passphrase', '', '--quick-add-key', fpr, algo, 'encr', '0');
  return {
    email,
    publicArmored: gpg('--armor', '--export', email).toString(),
    privateArmored: gpg(
      '--armor',
      '--pinentry-mode',
      'loopback',
      '--passphrase',
      '',
      '--export-secret-keys',
      email,
    ).toString(),
  };
}

function pgpMimeAround(armor: string, eol = '\n'): Buffer {
  const lines = [
    'From: a@example.org',
    'Subject: [...]',
    'MIME-Version: 1.0',
    'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="XYZ"',
    '',
    'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)',
    '--XYZ',
    'Content-Type: application/pgp-encrypted',
    '',
    'Version: 1',
    '',
    '--XYZ',
    'Content-Type: application/octet-stream; name="encrypted.asc"',
    '',
    armor.trimEnd(),
    '',
    '--XYZ--',
    '',
  ];
  return Buffer.from(lines.join(eol), 'latin1');
}

describe('decrypt helpers', () => {
  let home = '';
  const keys: GpgKey[] = [];
  let armor = '';
  let armorRsaOnly = '';

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'pgpipe-helpers-'));
    keys.push(gpgKey(home, 'curve@example.test', 'cv25519'), gpgKey(home, 'rsa@example.test', 'rsa3072'));
    const encrypt = (...recipients: string[]) =>
      execFileSync(
        'gpg',
        [
          '--batch',
          '--no-tty',
          '--quiet',
          '--trust-model',
          'always',
          '--armor',
          '--encrypt',
          ...recipients.flatMap((r) => ['-r', r]),
        ],
        { env: { ...process.env, GNUPGHOME: home }, input: PLAINTEXT },
      ).toString();
    armor = encrypt('curve@example.test', 'rsa@example.test');
    armorRsaOnly = encrypt('rsa@example.test');
  });
  after(() => {
    execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: home } });
    rmSync(home, { recursive: true, force: true });
  });

  for (const [tool, decrypt] of Object.entries(DECRYPTORS)) {
    it(`${tool} decrypts gpg output for a Curve25519 and an RSA-3072 key, bytes exact`, async () => {
      for (const key of keys) {
        assert.deepEqual(await decrypt(armor, key.privateArmored), PLAINTEXT, `${tool} with ${key.email}`);
      }
      assert.deepEqual(await decrypt(pgpMimeAround(armor), keys[0]?.privateArmored ?? ''), PLAINTEXT, 'from PGP/MIME');
    });
    it(`${tool} fails for a key the message was not encrypted to`, async () => {
      await assert.rejects(decrypt(armorRsaOnly, keys[0]?.privateArmored ?? ''));
    });
  }

  it('leaves no temp keyring dirs behind', async () => {
    const ours = () => readdirSync(tmpdir()).filter((n) => /^pgpipe-dec-(gpg|rnp|sq|sqop)-/.test(n)).length;
    const before = ours();
    await DECRYPTORS.gpg(armor, keys[1]?.privateArmored ?? '');
    await DECRYPTORS.rnp(armor, keys[1]?.privateArmored ?? '');
    await DECRYPTORS.sq(armor, keys[1]?.privateArmored ?? '');
    await DECRYPTORS.gpg(armorRsaOnly, keys[0]?.privateArmored ?? '').catch(() => undefined);
    assert.equal(ours(), before);
  });

  it('lists packets: two v3 PKESKs and a SEIPD with MDC', async () => {
    const packets = await listPacketsWithGpg(armor);
    assert.equal(packets.match(/:pubkey enc packet: version 3/g)?.length, 2);
    assert.match(packets, /mdc_method: 2/);
  });

  it('parsePgpMime returns the outer headers and the armor, LF and CRLF', () => {
    for (const eol of ['\n', '\r\n']) {
      const parsed = parsePgpMime(pgpMimeAround(armor, eol));
      assert.deepEqual(
        parsed.outerHeaders.map((f) => f.name),
        ['From', 'Subject', 'MIME-Version', 'Content-Type'],
      );
      assert.equal(parsed.armor.replace(/\r/g, ''), armor.trim());
      assert.equal(extractArmor(pgpMimeAround(armor, eol)), parsed.armor);
    }
  });

  const broken: [string, (s: string) => string][] = [
    [
      'unquoted protocol',
      (s) => s.replace('protocol="application/pgp-encrypted"', 'protocol=application/pgp-encrypted'),
    ],
    [
      'wrong protocol',
      (s) => s.replace('protocol="application/pgp-encrypted"', 'protocol="application/pgp-signature"'),
    ],
    ['not multipart/encrypted', (s) => s.replace('multipart/encrypted', 'multipart/mixed')],
    ['no Version: 1', (s) => s.replace('\nVersion: 1\n', '\nVersion: 2\n')],
    ['first part type', (s) => s.replace('Content-Type: application/pgp-encrypted\n', 'Content-Type: text/plain\n')],
    ['second part type', (s) => s.replace('application/octet-stream', 'text/plain')],
    ['three parts', (s) => s.replace('--XYZ--', '--XYZ\nContent-Type: text/plain\n\nextra\n--XYZ--')],
    ['no closing boundary', (s) => s.replace('--XYZ--', '')],
    ['armor cut', (s) => s.replace('-----END PGP MESSAGE-----', '')],
  ];
  for (const [what, mangle] of broken) {
    it(`parsePgpMime rejects: ${what}`, () => {
      const good = pgpMimeAround(armor).toString('latin1');
      const bad = mangle(good);
      assert.notEqual(bad, good, 'the mangling applied');
      assert.throws(() => parsePgpMime(Buffer.from(bad, 'latin1')), assert.AssertionError);
    });
  }
});
