// inspectKeys on keys generated at test time: one verdict per key, the right problem for each kind of bad key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspectKeys } from '../../src/keys/inspect-keys.js';
import type { KeyReport } from '../../src/keys/types.js';
import { makeKey, tempGnupg } from '../helpers/keys.js';
import { ENCRYPTION_CONFIG } from '../../src/keys/encryption-config.js';
import { weakNewestSubkeyKey } from './weak-newest-subkey.js';
import type { KeySpec } from '../helpers/keys.js';

async function only(spec: KeySpec): Promise<KeyReport> {
  const key = await makeKey(spec);
  const reports = await inspectKeys(key.publicArmored);
  assert.equal(reports.length, 1);
  const [report] = reports;
  assert.ok(report);
  assert.equal(report.fingerprint, key.fingerprint);
  return report;
}

function assertNoKeyMaterial(report: KeyReport): void {
  assert.ok(report.reason === null || (report.reason.length < 120 && !/[A-Za-z0-9+/]{40}/.test(report.reason)));
}

describe('inspectKeys', () => {
  it('accepts Curve25519 and RSA-3072 keys', async () => {
    for (const kind of ['curve25519', 'rsa3072'] as const) {
      const report = await only({ kind, email: `${kind}@example.org` });
      assert.equal(report.usable, true, kind);
      assert.equal(report.problem, null);
      assert.equal(report.version, 4);
      assert.deepEqual(report.userIds, [`Test <${kind}@example.org>`]);
      assert.ok(report.key !== null && !report.key.isPrivate());
      assert.ok(report.created instanceof Date);
    }
    assert.equal((await only({ kind: 'rsa3072', email: 'rsa3072@example.org' })).algorithm, 'rsa 3072');
    assert.equal((await only({ kind: 'curve25519', email: 'curve25519@example.org' })).algorithm, 'ed25519/curve25519');
  });

  it('reports the expiry date of an expired key', async () => {
    const report = await only({ kind: 'curve25519', email: 'expired@example.org', expired: true });
    assert.equal(report.problem, 'expired');
    assert.equal(report.usable, false);
    assert.equal(report.key, null);
    assert.ok(report.expires instanceof Date && report.expires < new Date());
    assert.equal(report.reason, `expired on ${report.expires.toISOString().slice(0, 10)}`);
  });

  it('reports a future expiry on a usable key, and honours `now`', async () => {
    const key = await makeKey({ kind: 'curve25519', email: 'soon@example.org', expiresInDays: 3 });
    const [today] = await inspectKeys(key.publicArmored);
    assert.equal(today?.usable, true);
    assert.ok(today?.expires instanceof Date && today.expires > new Date());
    const [later] = await inspectKeys(key.publicArmored, new Date(Date.now() + 10 * 86_400_000));
    assert.equal(later?.problem, 'expired');
  });

  it('reports revoked, sign-only and all-encryption-subkeys-expired keys', async () => {
    assert.equal((await only({ kind: 'curve25519', email: 'rev@example.org', revoked: true })).problem, 'revoked');
    assert.equal(
      (await only({ kind: 'curve25519', email: 'sign@example.org', signOnly: true })).problem,
      'no-encryption-key',
    );
    assert.equal(
      (await only({ kind: 'rsa2048', email: 'rsasign@example.org', signOnly: true })).problem,
      'no-encryption-key',
    );
    assert.equal(
      (await only({ kind: 'curve25519', email: 'deadsub@example.org', onlySubkeyExpired: true })).problem,
      'no-encryption-key',
    );
  });

  it('accepts a key whose first encryption subkey expired while another is valid', async () => {
    const report = await only({ kind: 'curve25519', email: 'twosub@example.org', expiredSubkeyPlusValid: true });
    assert.equal(report.usable, true);
  });

  it('refuses RSA-1024 as weak-rsa', async () => {
    const report = await only({ kind: 'rsa1024', email: 'weak@example.org' });
    assert.equal(report.problem, 'weak-rsa');
    assert.match(report.reason ?? '', /1024/);
  });

  it('judges the subkey OpenPGP.js encrypts to: an older strong one beats a newer weak one (review #8)', async () => {
    const key = await weakNewestSubkeyKey();
    const [report] = await inspectKeys(key.publicArmored);
    assert.equal(report?.problem, null, report?.reason ?? '');
    assert.equal(report?.algorithm, 'rsa 2048', 'names the strong subkey that will be used');
    const chosen = await report?.key?.getEncryptionKey(undefined, undefined, undefined, ENCRYPTION_CONFIG);
    assert.equal(chosen?.getKeyID().toHex(), key.strongKeyId);
  });

  it('refuses a key whose only valid encryption subkey is weak, though an expired strong one exists', async () => {
    const key = await weakNewestSubkeyKey(true);
    const [report] = await inspectKeys(key.publicArmored);
    assert.equal(report?.problem, 'weak-rsa');
    assert.match(report?.reason ?? '', /RSA 1024 bits/);
    assert.equal(report?.algorithm, 'rsa 2048/rsa 1024');
  });

  it('refuses a v6 key', async () => {
    const report = await only({ kind: 'curve25519', email: 'v6@example.org', v6: true });
    assert.equal(report.problem, 'v6');
    assert.equal(report.version, 6);
  });

  it('accepts a key that advertises SEIPDv2 (encryptPayload still writes v1)', async () => {
    assert.equal((await only({ kind: 'curve25519', email: 'aead@example.org', aead: true })).usable, true);
  });

  it('refuses a GnuPG DSA/ElGamal key as weak-algorithm', async () => {
    const report = await only({ kind: 'dsa', email: 'dsa@example.org' });
    assert.equal(report.problem, 'weak-algorithm');
    assert.equal(report.algorithm, 'dsa 1024/elgamal 1024');
  });

  it('flags a private key block as private and never hands out a key', async () => {
    const key = await makeKey({ kind: 'curve25519', email: 'curve25519@example.org' });
    const reports = await inspectKeys(key.privateArmored);
    assert.deepEqual(
      reports.map((r) => [r.problem, r.usable, r.key, r.fingerprint]),
      [['private', false, null, key.fingerprint]],
    );
    assert.equal(reports[0]?.reason, 'private key stored, not a public key');
  });

  it('flags a private key even next to a usable public key', async () => {
    const a = await makeKey({ kind: 'curve25519', email: 'curve25519@example.org' });
    const reports = await inspectKeys(`${a.privateArmored}\n${a.publicArmored}`);
    assert.deepEqual(
      reports.map((r) => r.problem),
      ['private', null],
    );
  });

  it('reports garbage, truncated armor and non-key armor as garbage', async () => {
    const key = await makeKey({ kind: 'curve25519', email: 'curve25519@example.org' });
    const truncated = key.publicArmored.slice(0, Math.floor(key.publicArmored.length / 2));
    const corrupted = key.publicArmored.replace(/\n([A-Za-z0-9+/]{20})/, '\n!!!!!!!!!!!!!!!!!!!!');
    for (const text of [
      '',
      'not a key',
      'ssh-ed25519 AAAAC3Nza',
      truncated,
      corrupted,
      '-----BEGIN PGP MESSAGE-----\n\nhQ==\n-----END PGP MESSAGE-----\n',
    ]) {
      const reports = await inspectKeys(text);
      assert.deepEqual(
        reports.map((r) => [r.problem, r.usable, r.key, r.fingerprint]),
        [['garbage', false, null, '']],
        JSON.stringify(text.slice(0, 30)),
      );
      reports.forEach(assertNoKeyMaterial);
    }
  });

  it('still uses a valid key stored after a truncated one (review #7)', async () => {
    const key = await makeKey({ kind: 'curve25519', email: 'curve25519@example.org' });
    const half = key.publicArmored.slice(0, 300);
    const reports = await inspectKeys(`${half}\n${key.publicArmored}`);
    assert.deepEqual(
      reports.map((r) => [r.problem, r.fingerprint]),
      [
        ['garbage', ''],
        [null, key.fingerprint],
      ],
    );
  });

  it('reports a 5 MB garbage blob as garbage, with and without armor lines', async () => {
    const blob = 'A'.repeat(5 * 1024 * 1024);
    assert.deepEqual(
      (await inspectKeys(blob)).map((r) => r.problem),
      ['garbage'],
    );
    const armored = `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${blob.replace(/(.{64})/g, '$1\n')}\n-----END PGP PUBLIC KEY BLOCK-----\n`;
    assert.deepEqual(
      (await inspectKeys(armored)).map((r) => r.problem),
      ['garbage'],
    );
  });

  it('finds the keys of several armored blocks in one text', async () => {
    const a = await makeKey({ kind: 'curve25519', email: 'curve25519@example.org' });
    const b = await makeKey({ kind: 'rsa3072', email: 'rsa3072@example.org' });
    const reports = await inspectKeys(`${a.publicArmored}\n\n${b.publicArmored}`);
    assert.deepEqual(
      reports.map((r) => r.fingerprint),
      [a.fingerprint, b.fingerprint],
    );
    assert.ok(reports.every((r) => r.usable));
  });

  it('finds every key of a gpg --export of several keys in one block', async () => {
    const keys = await Promise.all([
      makeKey({ kind: 'curve25519', email: 'curve25519@example.org' }),
      makeKey({ kind: 'rsa3072', email: 'rsa3072@example.org' }),
      makeKey({ kind: 'curve25519', email: 'expired@example.org', expired: true }),
    ]);
    const gnupg = await tempGnupg();
    try {
      for (const key of keys) assert.equal((await gnupg.gpg(['--import'], key.publicArmored)).code, 0);
      const exported = (await gnupg.gpg(['--armor', '--export'])).stdout.toString('utf8');
      assert.equal(exported.match(/BEGIN PGP PUBLIC KEY BLOCK/g)?.length, 1, 'one armor block');
      const reports = await inspectKeys(exported);
      assert.deepEqual(new Set(reports.map((r) => r.fingerprint)), new Set(keys.map((k) => k.fingerprint)));
      assert.deepEqual(reports.map((r) => r.problem).sort(), ['expired', null, null].sort());
    } finally {
      await gnupg.close();
    }
  });

  it('handles 100 keys in one row', async () => {
    const key = await makeKey({ kind: 'curve25519', email: 'curve25519@example.org' });
    const dead = await makeKey({ kind: 'curve25519', email: 'expired@example.org', expired: true });
    const text = Array.from({ length: 100 }, (_, i) => (i === 99 ? key : dead).publicArmored).join('\n');
    const reports = await inspectKeys(text);
    assert.equal(reports.length, 100);
    assert.equal(reports.filter((r) => r.usable).length, 1);
    assert.equal(reports[99]?.fingerprint, key.fingerprint);
  });
});
