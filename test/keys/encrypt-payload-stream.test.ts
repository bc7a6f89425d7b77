// encryptPayloadArmor: below 1 MiB the one-string path, from 1 MiB on streamed armor chunks; both are v3 PKESK +
// SEIPDv1 (never AEAD) and decrypt with gpg to the exact payload, around the threshold, at 0 B and at 20 MB.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import { encryptPayloadArmor, STREAM_THRESHOLD, type Armor } from '../../src/keys/encrypt-payload.js';
import { isPgpipeError } from '../../src/errors.js';
import { inspectKeys } from '../../src/keys/inspect-keys.js';
import { makeKey, tempGnupg } from '../helpers/keys.js';
import { weakNewestSubkeyKey } from './weak-newest-subkey.js';
import type { TestKey } from '../helpers/keys.js';

const publicKey = async (key: TestKey) => openpgp.readKey({ armoredKey: key.publicArmored });
const text = (armor: Armor): string => (typeof armor === 'string' ? armor : Buffer.concat(armor).toString('latin1'));

describe('encryptPayloadArmor (streamed for large payloads)', () => {
  let gnupg: Awaited<ReturnType<typeof tempGnupg>>;
  let key: TestKey;
  before(async () => {
    gnupg = await tempGnupg();
    // The key advertises SEIPDv2: the streamed path must still write SEIPDv1 + v3 PKESK.
    key = await makeKey({ kind: 'curve25519', email: 'stream-seipd2@example.org', aead: true });
    assert.equal((await gnupg.gpg(['--import'], key.privateArmored)).code, 0);
  });
  after(async () => gnupg.close());

  async function check(armor: Armor, payload: Buffer): Promise<void> {
    const armored = text(armor);
    assert.match(armored, /^-----BEGIN PGP MESSAGE-----\n/);
    assert.match(armored, /\n-----END PGP MESSAGE-----\n?$/);
    assert.doesNotMatch(armored, /\r/);
    const listing = await gnupg.gpg(['--list-packets'], armored);
    const packets = `${listing.stdout.toString('utf8')}\n${listing.stderr}`;
    assert.equal(packets.match(/:pubkey enc packet: version 3,/g)?.length, 1);
    assert.match(packets, /:encrypted data packet:[\s\S]*mdc_method: 2/);
    assert.doesNotMatch(packets, /version 6|unknown version|aead|AEAD/);
    const decrypted = await gnupg.gpg(['--decrypt'], armored);
    assert.equal(decrypted.code, 0, decrypted.stderr);
    assert.equal(decrypted.stdout.length, payload.length);
    assert.ok(decrypted.stdout.equals(payload), 'payload comes back byte for byte');
  }

  for (const [label, size, streamed] of [
    ['1 MiB - 1 (string path)', STREAM_THRESHOLD - 1, false],
    ['exactly 1 MiB (streamed)', STREAM_THRESHOLD, true],
    ['1 MiB + 7 (streamed)', STREAM_THRESHOLD + 7, true],
    ['20 MB (streamed)', 20_000_000, true],
  ] as const) {
    it(`${label}: decrypts with gpg, v3 PKESK, SEIPDv1`, async () => {
      const payload = randomBytes(size);
      const armor = await encryptPayloadArmor(payload, [await publicKey(key)]);
      assert.equal(typeof armor !== 'string', streamed);
      if (streamed) assert.ok((armor as readonly Buffer[]).length > 1, 'more than one chunk');
      await check(armor, payload);
    });
  }

  it('0 B and 1 B payloads through the streamed path', async () => {
    for (const payload of [Buffer.alloc(0), Buffer.from('x')]) {
      const armor = await encryptPayloadArmor(payload, [await publicKey(key)], true);
      assert.notEqual(typeof armor, 'string');
      await check(armor, payload);
    }
  });

  it('a payload that is a view into a larger buffer is encrypted from its own bytes only', async () => {
    const big = randomBytes(STREAM_THRESHOLD + 300);
    const view = big.subarray(100, big.length - 100);
    await check(await encryptPayloadArmor(view, [await publicKey(key)]), Buffer.from(view));
  });

  it('one PKESK per key in the streamed path, and each key alone decrypts', async () => {
    const other = await makeKey({ kind: 'rsa3072', email: 'rsa3072@example.org' });
    const payload = randomBytes(STREAM_THRESHOLD + 1);
    const armored = text(await encryptPayloadArmor(payload, [await publicKey(key), await publicKey(other)]));
    const listing = (await gnupg.gpg(['--list-packets'], armored)).stdout.toString('utf8');
    assert.equal(listing.match(/:pubkey enc packet: version 3,/g)?.length, 2);
    const message = await openpgp.readMessage({ armoredMessage: armored });
    const decryptionKeys = await openpgp.readPrivateKey({ armoredKey: other.privateArmored });
    const { data } = await openpgp.decrypt({ message, decryptionKeys, format: 'binary' });
    assert.ok(Buffer.from(data as Uint8Array).equals(payload));
  });

  it('uses the same config as inspectKeys: encrypts to the strong subkey, never a newer weak one', async () => {
    const twoSubkeys = await weakNewestSubkeyKey(false, 2047);
    const [report] = await inspectKeys(twoSubkeys.publicArmored);
    assert.ok(report?.key);
    const armored = text(await encryptPayloadArmor(Buffer.from('x'), [report.key], true));
    const message = await openpgp.readMessage({ armoredMessage: armored });
    assert.deepEqual(
      message.getEncryptionKeyIDs().map((id) => id.toHex()),
      [twoSubkeys.strongKeyId],
    );
  });

  it('refuses an empty key list with a temporary encrypt.failed, streamed or not', async () => {
    for (const payload of [Buffer.from('x'), Buffer.alloc(STREAM_THRESHOLD)]) {
      const error = await encryptPayloadArmor(payload, []).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(isPgpipeError(error));
      assert.equal(error.code, 'encrypt.failed');
      assert.equal(error.temporary, true);
    }
  });
});
