// Key health classification at an injected "now": the verdicts cron relies on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyKeys, formatCheckKeys } from '../../src/admin/check-keys.js';
import type { KeySummary } from '../../src/admin/summarize-key.js';

const now = new Date('2026-06-01T12:00:00Z');
const day = 86_400_000;

function key(overrides: Partial<KeySummary>): KeySummary {
  return {
    fingerprint: 'A'.repeat(40),
    version: 4,
    algorithm: 'ed25519/curve25519',
    created: new Date('2025-01-01T00:00:00Z'),
    expires: null,
    encryptionExpires: null,
    userIds: ['A <a@example.org>'],
    usable: true,
    problem: null,
    reason: null,
    ...overrides,
  };
}

describe('classifyKeys', () => {
  it('a row without keys needs attention', () => {
    assert.deepEqual(
      classifyKeys('a@example.org', [], now, 30).map((e) => e.health),
      ['no-key'],
    );
  });

  it('a key without expiry is fine', () => {
    const [entry] = classifyKeys('a@example.org', [key({})], now, 30);
    assert.equal(entry?.health, 'ok');
    assert.equal(entry?.detail, 'usable, no expiry');
  });

  it('expiring within the horizon, counted in whole days, inclusive of the boundary', () => {
    const in10 = new Date(now.getTime() + 10 * day);
    const [soon] = classifyKeys('a@example.org', [key({ expires: in10, encryptionExpires: in10 })], now, 30);
    assert.equal(soon?.health, 'expiring');
    assert.equal(soon?.detail, 'stops encrypting on 2026-06-11 (in 10 days)');
    const at30 = new Date(now.getTime() + 30 * day);
    assert.equal(classifyKeys('a@example.org', [key({ encryptionExpires: at30 })], now, 30)[0]?.health, 'expiring');
    const at31 = new Date(now.getTime() + 31 * day);
    assert.equal(classifyKeys('a@example.org', [key({ encryptionExpires: at31 })], now, 30)[0]?.health, 'ok');
    assert.equal(classifyKeys('a@example.org', [key({ encryptionExpires: in10 })], now, 5)[0]?.health, 'ok');
  });

  it('an encryption subkey expiring before a never-expiring primary counts', () => {
    const in3 = new Date(now.getTime() + 3 * day);
    assert.equal(
      classifyKeys('a@example.org', [key({ expires: null, encryptionExpires: in3 })], now, 30)[0]?.health,
      'expiring',
    );
  });

  it('expired, revoked and other problems keep their own verdict and reason', () => {
    const entries = classifyKeys(
      'a@example.org',
      [
        key({ usable: false, problem: 'expired', reason: 'expired on 2026-05-01' }),
        key({ usable: false, problem: 'revoked', reason: 'key is revoked' }),
        key({ usable: false, problem: 'private', reason: 'private key stored, not a public key' }),
        key({ usable: false, problem: 'garbage', reason: 'key block does not parse', fingerprint: '' }),
        key({}),
      ],
      now,
      30,
    );
    assert.deepEqual(
      entries.map((e) => [e.health, e.detail]),
      [
        ['expired', 'expired on 2026-05-01'],
        ['revoked', 'key is revoked'],
        ['unusable', 'private key stored, not a public key'],
        ['unusable', 'key block does not parse'],
        ['ok', 'usable, no expiry'],
      ],
    );
  });
});

describe('formatCheckKeys', () => {
  it('lists only what needs attention, then a summary', () => {
    const entries = classifyKeys(
      'a@example.org',
      [key({}), key({ usable: false, problem: 'revoked', reason: 'key is revoked', fingerprint: 'B'.repeat(40) })],
      now,
      30,
    );
    const text = formatCheckKeys({ withinDays: 30, users: 1, keys: 2, entries, attention: 1 });
    assert.doesNotMatch(text, /AAAAAAAA/);
    assert.match(text, /BBBBBBBB.*revoked\s+key is revoked/);
    assert.match(text, /1 of 2 entries need attention/);
    assert.equal(
      formatCheckKeys({ withinDays: 30, users: 1, keys: 1, entries: entries.slice(0, 1), attention: 0 }),
      'all 1 keys of 1 users are fine for the next 30 days\n',
    );
  });
});
