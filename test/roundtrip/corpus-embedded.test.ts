// Every corpus message, LF and CRLF, through the real `bin/pgpipe encrypt` on the embedded store: 'pass' cases come
// out byte-identical, 'encrypt' cases are RFC 3156 messages that OpenPGP.js, gpg, rnp, sq and sqop all decrypt to
// the exact input. Then the key types (Curve25519, RSA-3072, SEIPDv2-advertising), an alias, and a keyless recipient.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { seedEmbeddedDir } from '../helpers/embedded-template.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CORPUS, readFixture } from '../helpers/corpus.js';
import { listPacketsWithGpg, parsePgpMime } from '../helpers/decrypt.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { runCli } from '../helpers/run-cli.js';
import { seedStore, storeArgs, type StoreTarget } from '../helpers/seed.js';
import { checkEncrypted } from './check-encrypted.js';

const ASTRONAUT = 'astronaut57@supersecure.mydomain.net'; // Curve25519 (the tutorial's example user)
const RSA_USER = 'rsa3072@supersecure.mydomain.net';
const AEAD_USER = 'aead@supersecure.mydomain.net'; // key advertises SEIPDv2 (OpenPGP.js aeadProtect)
const NO_KEY = 'nobody@supersecure.mydomain.net';

let root = '';
let store: StoreTarget = { dataDir: '' };
/** A copy of `store` (same rows), so two CLI runs can work at once without waiting on the store's lock. */
let twin: StoreTarget = { dataDir: '' };
let curve: TestKey;
let rsa: TestKey;
let aead: TestKey;

const encryptIn = (target: StoreTarget, input: Buffer, ...to: string[]) =>
  runCli(['encrypt', ...to.flatMap((a) => ['--to', a]), ...storeArgs(target)], { input });
const encrypt = (input: Buffer, ...to: string[]) => encryptIn(store, input, ...to);

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'pgpipe-roundtrip-'));
  store = { dataDir: seedEmbeddedDir(join(root, 'db')) };
  [curve, rsa, aead] = await Promise.all([
    makeKey({ kind: 'curve25519', email: ASTRONAUT }),
    makeKey({ kind: 'rsa3072', email: RSA_USER }),
    makeKey({ kind: 'curve25519', email: AEAD_USER, aead: true }),
  ]);
  await seedStore(
    store,
    [
      { email: ASTRONAUT, pgpkey: curve.publicArmored },
      { email: RSA_USER, pgpkey: rsa.publicArmored },
      { email: AEAD_USER, pgpkey: aead.publicArmored },
    ],
    [{ alias: 'stargazer', email: ASTRONAUT }],
  );
  twin = { dataDir: join(root, 'db-twin') };
  cpSync(store.dataDir, twin.dataDir, { recursive: true });
});
after(() => rmSync(root, { recursive: true, force: true }));

// Two at a time (LF on the store, CRLF on its twin): the suite is mostly process start-up and PGlite opening.
describe('corpus through pgpipe encrypt (embedded store, Curve25519 recipient)', { concurrency: 2 }, () => {
  for (const c of CORPUS) {
    for (const eol of ['lf', 'crlf'] as const) {
      it(`${c.name} [${eol}] → ${c.expect}: ${c.about}`, async () => {
        const input = readFixture(c.name, eol);
        const result = await encryptIn(eol === 'lf' ? store : twin, input, ASTRONAUT);
        assert.equal(result.stderr, '');
        assert.equal(result.code, 0);
        if (c.expect === 'pass') {
          assert.ok(result.stdout.equals(input), 'already protected: output byte-identical to input');
        } else {
          await checkEncrypted(input, result.stdout, {
            privateKeys: [curve.privateArmored],
            brokenMime: c.brokenMime === true,
          });
        }
      });
    }
  }
});

describe('key types', () => {
  for (const name of ['utf8-8bit', 'nested-multipart']) {
    it(`RSA-3072 recipient: ${name} decrypts with every reader`, async () => {
      const input = readFixture(name, 'lf');
      const result = await encrypt(input, RSA_USER);
      assert.equal(result.code, 0, result.stderr);
      await checkEncrypted(input, result.stdout, { privateKeys: [rsa.privateArmored] });
    });
  }

  it('two recipients (Curve25519 + RSA-3072): one message, two v3 PKESKs, each key decrypts it', async () => {
    const input = readFixture('multipart-related', 'crlf');
    const result = await encrypt(input, ASTRONAUT, RSA_USER);
    assert.equal(result.code, 0, result.stderr);
    await checkEncrypted(input, result.stdout, { privateKeys: [curve.privateArmored, rsa.privateArmored] });
  });

  for (const name of ['rfc2047-subject']) {
    it(`key advertising SEIPDv2: ${name} still gets v3 PKESK + SEIPDv1 that gpg 2.2 reads`, async () => {
      const input = readFixture(name, 'lf');
      const result = await encrypt(input, AEAD_USER);
      assert.equal(result.code, 0, result.stderr);
      const packets = await listPacketsWithGpg(parsePgpMime(result.stdout).armor);
      assert.match(packets, /^:pubkey enc packet: version 3, algo 18,/m);
      assert.doesNotMatch(packets, /version 6|aead/i);
      await checkEncrypted(input, result.stdout, { privateKeys: [aead.privateArmored] });
    });
  }

  it('all three recipients at once (SEIPDv2 key mixed with others): three v3 PKESKs', async () => {
    const input = readFixture('base64-attachment', 'lf');
    const result = await encrypt(input, ASTRONAUT, RSA_USER, AEAD_USER);
    assert.equal(result.code, 0, result.stderr);
    await checkEncrypted(input, result.stdout, {
      privateKeys: [curve.privateArmored, rsa.privateArmored, aead.privateArmored],
      readers: ['openpgp.js', 'gpg'],
    });
  });
});

describe('recipients', () => {
  it('through the tutorial-style alias (bare local part) to the Curve25519 user', async () => {
    const input = readFixture('plain-ascii', 'lf');
    const result = await encrypt(input, 'stargazer@supersecure.mydomain.net');
    assert.equal(result.code, 0, result.stderr);
    await checkEncrypted(input, result.stdout, { privateKeys: [curve.privateArmored], readers: ['gpg'] });
  });

  for (const [name, eol] of [
    ['nested-multipart', 'crlf'],
    ['junk-bytes', 'lf'],
  ] as const) {
    it(`recipient without a key: ${name} [${eol}] comes out byte-identical`, async () => {
      const input = readFixture(name, eol);
      const result = await encrypt(input, NO_KEY);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      assert.ok(result.stdout.equals(input));
    });
  }
});
