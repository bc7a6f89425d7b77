// Keys real users hold beyond Curve25519/RSA (issue 11 items 4 and 5). Brainpool (smartcards) and secp256k1 keys
// made by GnuPG must be usable, and the output must decrypt in every client that supports the curve; v4 keys whose
// encryption subkey is RFC 9580 X25519/X448 must be refused like v6 keys (GnuPG 2.2, RNP 0.16, sqop 0.27 cannot
// read the result), unless another subkey of the same key serves those readers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { inspectKeys } from '../../src/keys/inspect-keys.js';
import { encryptPayload } from '../../src/keys/encrypt-payload.js';
import { ENCRYPTION_CONFIG } from '../../src/keys/encryption-config.js';
import { DECRYPTORS, listPacketsWithGpg } from '../helpers/decrypt.js';
import { GPG_CURVES, makeKey } from '../helpers/keys.js';
import type { GpgCurve } from '../helpers/keys.js';

const PAYLOAD = Buffer.from('Content-Type: text/plain; charset=utf-8\r\n\r\nsmartcard Grüße\r\n', 'utf8');

// Which clients on Debian 12 decrypt ECDH on each curve (Sequoia's Nettle backend has no Brainpool or secp256k1).
const READERS: Record<GpgCurve, readonly (keyof typeof DECRYPTORS)[]> = {
  brainpoolP256r1: ['gpg', 'rnp', 'openpgp.js'], // sq/sqop: Nettle lacks the curve (asserted)
  brainpoolP384r1: ['gpg', 'rnp', 'openpgp.js'],
  brainpoolP512r1: ['gpg', 'rnp', 'openpgp.js'],
  secp256k1: ['gpg', 'rnp', 'openpgp.js'],
  nistp256: ['gpg', 'rnp', 'sq', 'sqop', 'openpgp.js'],
};

describe('ECC curves GnuPG makes', () => {
  for (const curve of GPG_CURVES) {
    it(`a gpg ${curve} key is usable and its output decrypts with ${READERS[curve].join(', ')}`, async () => {
      const key = await makeKey({ kind: curve, email: `${curve.toLowerCase()}@curves.test` });
      const [report, ...rest] = await inspectKeys(key.publicArmored);
      assert.equal(rest.length, 0);
      assert.equal(report?.problem, null, report?.reason ?? '');
      assert.equal(report?.usable, true);
      assert.equal(report?.fingerprint, key.fingerprint);
      assert.match(report?.algorithm ?? '', new RegExp(`^${curve}$`, 'i'), 'ECDSA and ECDH on the same curve');
      assert.ok(report?.key);
      const armored = await encryptPayload(PAYLOAD, [report.key]);
      assert.match(await listPacketsWithGpg(armored), /pubkey enc packet: version 3, algo 18/);
      for (const reader of Object.keys(DECRYPTORS) as (keyof typeof DECRYPTORS)[]) {
        if (READERS[curve].includes(reader)) continue;
        // The list above is honest: a reader left out really cannot decrypt this curve here.
        await assert.rejects(DECRYPTORS[reader](armored, key.privateArmored), `${reader} on ${curve}`);
      }
      for (const reader of READERS[curve]) {
        const plain = await DECRYPTORS[reader](armored, key.privateArmored);
        assert.ok(plain.equals(PAYLOAD), `${reader} decrypts ${curve}`);
      }
    });
  }
});

describe('RFC 9580 X25519/X448 encryption subkeys on v4 keys', () => {
  for (const kind of ['x25519', 'x448'] as const) {
    it(`refuses a v4 key whose only encryption subkey is ${kind}, naming why`, async () => {
      const key = await makeKey({ kind, email: `${kind}@curves.test` });
      const parsed = await openpgp.readKey({ armoredKey: key.publicArmored });
      assert.equal(parsed.keyPacket.version, 4, 'the fixture really is a v4 key');
      const [report] = await inspectKeys(key.publicArmored);
      assert.equal(report?.problem, 'rfc9580-subkey');
      assert.equal(report?.usable, false);
      assert.equal(report?.key, null);
      assert.match(
        report?.reason ?? '',
        new RegExp(
          `^${kind === 'x25519' ? 'X25519' : 'X448'} \\(RFC 9580\\) encryption subkey: GnuPG 2\\.2 cannot use it$`,
        ),
      );
      await assert.rejects(encryptPayload(PAYLOAD, [parsed as openpgp.PublicKey]), 'encryptPayload refuses it too');
    });
  }

  it('uses the legacy cv25519 subkey of a key whose newest subkey is X25519, and GnuPG and sqop read it', async () => {
    const key = await makeKey({ kind: 'x25519', email: 'both@curves.test', legacySubkeyToo: true });
    const [report] = await inspectKeys(key.publicArmored);
    assert.equal(report?.problem, null, report?.reason ?? '');
    assert.equal(report?.algorithm, 'ed25519/curve25519');
    assert.ok(report?.key);
    const chosen = await report.key.getEncryptionKey(undefined, undefined, undefined, ENCRYPTION_CONFIG);
    assert.equal(chosen.getAlgorithmInfo().algorithm, 'ecdh');
    const newest = [...report.key.getSubkeys()].sort((a, b) => +b.getCreationTime() - +a.getCreationTime())[0];
    assert.equal(
      newest?.getAlgorithmInfo().algorithm,
      'x25519',
      'the X25519 subkey is the newest: OpenPGP.js would pick it',
    );
    const armored = await encryptPayload(PAYLOAD, [report.key]);
    assert.match(await listPacketsWithGpg(armored), /pubkey enc packet: version 3, algo 18/);
    // RNP 0.16 cannot even load a secret key holding an algorithm-25 subkey, so it is not asked here.
    for (const reader of ['gpg', 'sqop', 'openpgp.js'] as const) {
      assert.ok((await DECRYPTORS[reader](armored, key.privateArmored)).equals(PAYLOAD), reader);
    }
  });
});

describe('a key OpenPGP.js cannot verify is not called "sign-only"', () => {
  it('names the failing check for a key whose encryption subkey binding does not verify', async () => {
    const key = await makeKey({ kind: 'brainpoolP256r1', email: 'tampered@curves.test' });
    const parsed = await openpgp.readKey({ armoredKey: key.publicArmored });
    const binding = parsed.getSubkeys()[0]?.bindingSignatures[0];
    const hash = binding?.signedHashValue;
    assert.ok(binding && hash);
    binding.signedHashValue = new Uint8Array([hash[0]! ^ 0xff, hash[1]!]);
    const [report] = await inspectKeys(parsed.armor());
    assert.equal(report?.problem, 'unverifiable');
    assert.match(report?.reason ?? '', /^key failed verification \(.+\)$/);
    assert.doesNotMatch(report?.reason ?? '', /sign-only/);
  });

  it('still calls a real sign-only gpg key sign-only', async () => {
    const key = await makeKey({ kind: 'brainpoolP384r1', email: 'signonly@curves.test' });
    const parsed = await openpgp.readKey({ armoredKey: key.publicArmored });
    parsed.subkeys = [];
    const [report] = await inspectKeys(parsed.armor());
    assert.equal(report?.problem, 'no-encryption-key');
    assert.match(report?.reason ?? '', /sign-only/);
  });
});
