// Every refusal of item 4 has its own one-line reason; good keys come back re-armored and test-encrypted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKey, readKey } from 'openpgp';
import { addressOf, validateKeyForWrite } from '../../src/admin/validate-key-for-write.js';
import { isPgpipeError } from '../../src/errors.js';
import { GPG_CURVES, makeKey } from '../helpers/keys.js';
import { gnupgHome } from './gpg.js';
import { BAD_KEYS } from './bad-keys.js';

const email = 'astronaut57@example.org';
// Keys are generated during the run, so "now" must be taken after they exist.
const now = (): Date => new Date();

/** `key` imported into a fresh GnuPG home, then exported with `exportArgs` (binary: no --armor). */
async function gpgBinaryExport(key: string, exportArgs: readonly string[]): Promise<Buffer> {
  const gnupg = gnupgHome();
  try {
    writeFileSync(join(gnupg.home, 'k.asc'), key);
    assert.equal((await gnupg.gpg(['--import', join(gnupg.home, 'k.asc')])).code, 0);
    return (await gnupg.gpg(exportArgs)).stdout;
  } finally {
    await gnupg.close();
  }
}

async function refusal(input: string | Buffer, allowOtherUid = false): Promise<string> {
  try {
    await validateKeyForWrite(input, { email, now: now(), allowOtherUid });
  } catch (error) {
    assert.ok(isPgpipeError(error), String(error));
    assert.equal(error.code, 'key.invalid');
    assert.equal(error.temporary, false);
    assert.doesNotMatch(error.message, /\n/);
    return error.message;
  }
  assert.fail('expected a refusal');
}

describe('validateKeyForWrite refuses', () => {
  for (const bad of BAD_KEYS) {
    it(bad.name, async () => assert.match(await refusal(await bad.input(email)), bad.reason));
  }

  it('a key whose only encryption subkey expired', async () => {
    const key = await makeKey({ kind: 'curve25519', email, onlySubkeyExpired: true });
    assert.match(await refusal(key.publicArmored), /^key [0-9A-F]{40} has no usable encryption subkey/);
  });

  it('a good key next to a private one', async () => {
    const text =
      (await makeKey({ kind: 'curve25519', email })).publicArmored +
      (await makeKey({ kind: 'rsa2048', email })).privateArmored;
    assert.match(await refusal(text), /^this is a PRIVATE key/);
  });

  it("a key created in the future (the maker's clock runs ahead), naming the clock", async () => {
    const { publicKey } = await generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ email }],
      date: new Date(Date.now() + 3_600_000),
      format: 'armored',
    });
    assert.match(
      await refusal(publicKey),
      /^key [0-9A-F]{40} was created in the future \(.*\): check the clock of the machine that made it$/,
    );
  });

  it('gives each problem its own reason', async () => {
    const reasons = await Promise.all(
      BAD_KEYS.map(async (bad) => (await refusal(await bad.input(email))).replace(/[0-9A-F]{40,64}/g, 'F')),
    );
    assert.equal(new Set(reasons).size, BAD_KEYS.length);
  });

  it('a binary private key export', async () => {
    const key = await makeKey({ kind: 'rsa2048', email });
    const binary = await gpgBinaryExport(key.privateArmored, ['--export-secret-keys', key.fingerprint]);
    assert.ok(binary.length > 100 && (binary[0]! & 0x80) !== 0);
    assert.match(await refusal(binary), /^this is a PRIVATE key/);
  });
});

describe('validateKeyForWrite accepts', () => {
  it('a good key, re-armored without the text around it', async () => {
    const key = await makeKey({ kind: 'curve25519', email });
    const result = await validateKeyForWrite(`Here is my key!\n\n${key.publicArmored}\nthanks\n`, {
      email,
      now: now(),
    });
    assert.equal(result.keys.length, 1);
    assert.equal(result.keys[0]?.fingerprint, key.fingerprint);
    assert.deepEqual(result.warnings, []);
    assert.doesNotMatch(result.keys[0]?.armored ?? '', /Here is my key|thanks/);
    assert.equal(
      (await readKey({ armoredKey: result.keys[0]?.armored ?? '' })).getFingerprint().toUpperCase(),
      key.fingerprint,
    );
  });

  it('a binary export (gpg --export without --armor)', async () => {
    const key = await makeKey({ kind: 'rsa3072', email });
    const binary = await gpgBinaryExport(key.publicArmored, ['--export', key.fingerprint]);
    const result = await validateKeyForWrite(binary, { email, now: now() });
    assert.equal(result.keys[0]?.fingerprint, key.fingerprint);
    assert.match(result.keys[0]?.armored ?? '', /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
  });

  it('several keys in one file, the same key twice stored once', async () => {
    const a = await makeKey({ kind: 'curve25519', email });
    const b = await makeKey({ kind: 'rsa2048', email });
    const result = await validateKeyForWrite(a.publicArmored + b.publicArmored + a.publicArmored, {
      email,
      now: now(),
    });
    assert.deepEqual(
      result.keys.map((k) => k.fingerprint),
      [a.fingerprint, b.fingerprint],
    );
  });

  it('another address with --allow-other-uid, with a warning', async () => {
    const key = await makeKey({ kind: 'curve25519', email: 'someone@else.example' });
    const result = await validateKeyForWrite(key.publicArmored, { email, now: now(), allowOtherUid: true });
    assert.equal(result.keys.length, 1);
    assert.match(result.warnings[0] ?? '', /has no user ID with astronaut57@example\.org .*--allow-other-uid/);
  });

  it('a key expiring soon, with a warning naming the day', async () => {
    const key = await makeKey({ kind: 'curve25519', email, expiresInDays: 10 });
    const result = await validateKeyForWrite(key.publicArmored, { email, now: now() });
    assert.equal(result.keys.length, 1);
    assert.match(result.warnings[0] ?? '', /stops encrypting on \d{4}-\d\d-\d\d/);
    assert.equal(result.keys[0]?.summary.encryptionExpires?.getTime(), result.keys[0]?.summary.expires?.getTime());
  });

  for (const curve of GPG_CURVES) {
    it(`a GnuPG ${curve} key (ECDSA + ECDH), with no warning`, async () => {
      const key = await makeKey({ kind: curve, email });
      const result = await validateKeyForWrite(key.publicArmored, { email, now: now() });
      assert.deepEqual(
        result.keys.map((k) => k.fingerprint),
        [key.fingerprint],
      );
      assert.deepEqual(result.warnings, []);
    });
  }

  it('a key with an X25519 subkey beside an older cv25519 one (the cv25519 subkey is used)', async () => {
    const key = await makeKey({ kind: 'x25519', email, legacySubkeyToo: true });
    const result = await validateKeyForWrite(key.publicArmored, { email, now: now() });
    assert.deepEqual(
      result.keys.map((k) => k.fingerprint),
      [key.fingerprint],
    );
  });

  it('matches the address case-insensitively', async () => {
    const key = await makeKey({ kind: 'curve25519', email: 'Astronaut57@Example.ORG' });
    const result = await validateKeyForWrite(key.publicArmored, { email, now: now() });
    assert.equal(result.keys.length, 1);
  });
});

describe('addressOf', () => {
  it('extracts the address of a user ID', () => {
    assert.equal(addressOf('Test <A@B.example>'), 'a@b.example');
    assert.equal(addressOf('a@b.example'), 'a@b.example');
    assert.equal(addressOf('Just a name'), '');
    assert.equal(addressOf('Name <not-an-address>'), '');
  });
});
