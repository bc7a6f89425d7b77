// The memo of parsed key texts serve uses: answers only for the exact same text, for at most ttlMs, within its
// bounds, and counts hits and misses. A counting stand-in for inspectKeys and an injected clock (pure code); one
// test runs the real inspectKeys on a real key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKey, type PublicKey } from 'openpgp';
import { isPgpipeError } from '../../src/errors.js';
import { encryptPayload } from '../../src/keys/encrypt-payload.js';
import { inspectKeys } from '../../src/keys/inspect-keys.js';
import { createReportCache, type ReportCacheOptions } from '../../src/keys/report-cache.js';
import type { KeyReport } from '../../src/keys/types.js';
import { makeKey } from '../helpers/keys.js';

const report = (fingerprint: string, expires: Date | null = null): KeyReport => ({
  fingerprint,
  version: 4,
  algorithm: 'curve25519',
  created: new Date(0),
  expires,
  userIds: [],
  usable: true,
  problem: null,
  reason: null,
  key: null,
});

/** A cache over a stand-in that reports the text itself as the fingerprint and records every text it parsed. */
function counted(options: Partial<ReportCacheOptions> = {}) {
  let time = 1_000;
  const parsed: string[] = [];
  const cache = createReportCache({
    ttlMs: 60_000,
    clock: () => time,
    inspect: async (text) => {
      parsed.push(text);
      return [report(text)];
    },
    ...options,
  });
  const now = new Date();
  return {
    cache,
    parsed,
    ask: async (text: string, at = now) => (await cache.inspect(text, at))[0]?.fingerprint,
    advance: (ms: number) => {
      time += ms;
    },
  };
}

describe('report cache', () => {
  it('parses an unchanged text once within its lifetime, and counts hits and misses', async () => {
    const { cache, parsed, ask } = counted();
    assert.equal(await ask('A'), 'A');
    assert.equal(await ask('A'), 'A');
    assert.equal(await ask('A'), 'A');
    assert.deepEqual(parsed, ['A']);
    assert.deepEqual(cache.stats(), { hits: 2, misses: 1, entries: 1 });
  });

  it('never answers a changed text from the cache, however small the change', async () => {
    const { cache, parsed, ask } = counted();
    await ask('key-1');
    assert.equal(await ask('key-2'), 'key-2');
    assert.equal(await ask('key-1\n'), 'key-1\n');
    assert.equal(await ask('key-1'), 'key-1');
    assert.deepEqual(parsed, ['key-1', 'key-2', 'key-1\n']);
    assert.deepEqual(cache.stats(), { hits: 1, misses: 3, entries: 3 });
  });

  it('parses again once an entry is ttlMs old', async () => {
    const { cache, parsed, ask, advance } = counted({ ttlMs: 1_000 });
    await ask('A');
    advance(999);
    await ask('A');
    assert.deepEqual(parsed, ['A'], 'still fresh at 999 ms');
    advance(1);
    await ask('A');
    assert.deepEqual(parsed, ['A', 'A'], 'parsed again at 1000 ms');
    advance(500);
    await ask('A');
    assert.deepEqual(parsed, ['A', 'A'], 'the new entry lives from its own parse');
    advance(10_000);
    assert.equal(cache.stats().entries, 0, 'expired entries are gone, not only skipped');
  });

  it('is off with ttlMs 0: every call parses, and each counts as a miss', async () => {
    const { cache, parsed, ask } = counted({ ttlMs: 0 });
    await ask('A');
    await ask('A');
    assert.deepEqual(parsed, ['A', 'A']);
    assert.deepEqual(cache.stats(), { hits: 0, misses: 2, entries: 0 });
  });

  it('holds at most maxEntries, dropping the oldest first', async () => {
    const { cache, parsed, ask, advance } = counted({ maxEntries: 3 });
    for (const text of ['A', 'B', 'C']) {
      await ask(text);
      advance(1);
    }
    await ask('A'); // a hit does not make A younger: entries live from their parse
    await ask('D'); // evicts A, the oldest
    assert.equal(cache.stats().entries, 3);
    parsed.length = 0;
    for (const text of ['B', 'C', 'D']) await ask(text);
    assert.deepEqual(parsed, [], 'B, C, D were kept');
    await ask('A');
    assert.deepEqual(parsed, ['A'], 'A had been evicted');
    assert.equal(cache.stats().entries, 3);
  });

  it('bounds the summed text length, and never caches a text longer than that bound', async () => {
    const { cache, parsed, ask } = counted({ maxText: 10 });
    await ask('aaaa'); // 4
    await ask('bbbb'); // 8
    await ask('cccc'); // 12 > 10: aaaa goes
    assert.equal(cache.stats().entries, 2);
    await ask('x'.repeat(11));
    await ask('x'.repeat(11));
    assert.equal(parsed.filter((t) => t.length === 11).length, 2, 'too long to cache: parsed each time');
    parsed.length = 0;
    await ask('bbbb');
    await ask('cccc');
    assert.deepEqual(parsed, [], 'the over-long text evicted nothing');
  });

  it('shares one parse between concurrent calls for the same text', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const cache = createReportCache({
      ttlMs: 60_000,
      inspect: async (text) => {
        calls++;
        await gate;
        return [report(text)];
      },
    });
    const now = new Date();
    const pending = [cache.inspect('A', now), cache.inspect('A', now), cache.inspect('A', now)];
    release();
    const results = await Promise.all(pending);
    assert.equal(calls, 1);
    assert.ok(results.every((r) => r[0]?.fingerprint === 'A'));
    assert.deepEqual(cache.stats(), { hits: 2, misses: 1, entries: 1 });
  });

  it('does not remember a failed parse', async () => {
    let fail = true;
    const cache = createReportCache({
      ttlMs: 60_000,
      inspect: async (text) => {
        if (fail) throw new Error('parse failed');
        return [report(text)];
      },
    });
    const now = new Date();
    await assert.rejects(cache.inspect('A', now), /parse failed/);
    fail = false;
    assert.equal((await cache.inspect('A', now))[0]?.fingerprint, 'A');
    assert.equal(cache.stats().misses, 2);
  });

  it('judges a key again once its expiry date has passed, within the lifetime', async () => {
    const expires = new Date('2030-01-01T00:00:00Z');
    let calls = 0;
    const cache = createReportCache({
      ttlMs: 60_000,
      clock: () => 0,
      inspect: async (text, now) => {
        calls++;
        return [{ ...report(text, expires), usable: now < expires }];
      },
    });
    assert.equal((await cache.inspect('A', new Date('2029-12-31T23:59:59Z')))[0]?.usable, true);
    assert.equal((await cache.inspect('A', new Date('2029-12-31T23:59:59Z')))[0]?.usable, true);
    assert.equal(calls, 1);
    assert.equal((await cache.inspect('A', expires))[0]?.usable, false, 'not the cached verdict of a second ago');
    assert.equal(calls, 2);
  });

  it('memoises the real inspectKeys: the same parsed key comes back', async () => {
    const key = await makeKey({ kind: 'curve25519', email: 'memo@example.org' });
    const cache = createReportCache({ ttlMs: 60_000 });
    const now = new Date();
    const first = await cache.inspect(key.publicArmored, now);
    const second = await cache.inspect(key.publicArmored, now);
    assert.equal(first[0]?.fingerprint, key.fingerprint);
    assert.equal(first[0]?.usable, true);
    assert.equal(second, first);
    assert.deepEqual(cache.stats(), { hits: 1, misses: 1, entries: 1 });
  });

  it('a stale verdict (a subkey expired since the parse) fails at encryption, so the mail waits', async () => {
    // The report carries only the primary key's expiry; an encryption subkey's expiry within the lifetime is
    // what the cache can miss. OpenPGP.js checks the subkey again when it encrypts (at the current time).
    const { publicKey } = await generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ email: 'brief@example.org' }],
      subkeys: [{ keyExpirationTime: 2 }],
      format: 'armored',
    });
    const cache = createReportCache({ ttlMs: 60_000 });
    const [parsed] = await cache.inspect(publicKey, new Date());
    assert.equal(parsed?.usable, true);
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    const [stale] = await cache.inspect(publicKey, new Date());
    assert.equal(stale, parsed, 'the cached verdict, still "usable"');
    assert.equal((await inspectKeys(publicKey, new Date()))[0]?.usable, false, 'a fresh parse knows better');
    const error = await encryptPayload(Buffer.from('secret'), [stale?.key as PublicKey]).then(
      () => assert.fail('encrypted to an expired subkey'),
      (e: unknown) => e,
    );
    assert.ok(isPgpipeError(error) && error.code === 'encrypt.failed' && error.temporary, String(error));
  });
});
