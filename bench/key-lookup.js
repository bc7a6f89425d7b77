#!/usr/bin/env node
// Key lookup cost inside one process: today's open-a-connection-per-lookup (createKeyLookup, what filter/deliver
// do once per message) against serve's warm store (pool + memo of parsed keys), and the pool without the memo, for
// one recipient with a Curve25519 key and one with RSA-4096, on a throwaway PostgreSQL on a unix socket.
// Usage: node bench/key-lookup.js [--lookups 200] [--concurrency 8]. Prints medians and p90 in ms of sequential
// lookups, then lookups per second with --concurrency in flight (the test cluster allows 20 connections); writes
// nothing.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateKey } from 'openpgp';
import { median } from './measure.js';
import { startKeyDatabase } from './postgres.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: opts } = parseArgs({
  options: { lookups: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '8' } },
});
const lookups = Number(opts.lookups);
const concurrency = Number(opts.concurrency);

const { tsImport } = await import('tsx/esm/api');
const load = (path) => tsImport(join(root, path), import.meta.url);
const [{ loadConfig }, { createKeyLookup }, { openWarmStore }] = await Promise.all([
  load('src/config/load-config.ts'),
  load('src/adapters/key-lookup.ts'),
  load('src/serve/warm-store.ts'),
]);

const recipients = [
  { email: 'cv25519@bench.invalid', label: 'Curve25519', options: { type: 'ecc', curve: 'curve25519Legacy' } },
  { email: 'rsa4096@bench.invalid', label: 'RSA-4096', options: { type: 'rsa', rsaBits: 4096 } },
];
const keys = await Promise.all(
  recipients.map(async (r) => {
    const { publicKey } = await generateKey({ ...r.options, userIDs: [{ email: r.email }], format: 'armored' });
    return { email: r.email, publicArmored: publicKey };
  }),
);
const db = await startKeyDatabase(root, keys);
const signal = new AbortController().signal;
const config = (cacheMs) =>
  loadConfig({ flags: { databaseUrl: db.url, serveKeyCacheMs: cacheMs }, env: {}, configPath: '/dev/null' });

async function time(lookup, email) {
  for (let i = 0; i < 10; i++) await lookup.lookup([email], signal); // warm-up: JIT, first connections
  const samples = [];
  for (let i = 0; i < lookups; i++) {
    const started = performance.now();
    const found = await lookup.lookup([email], signal);
    samples.push(performance.now() - started);
    if (found.get(email)?.kind !== 'keys') throw new Error(`no usable key found for ${email}`);
  }
  samples.sort((a, b) => a - b);
  return { median: median(samples), p90: samples[Math.floor(samples.length * 0.9)] };
}

/** Lookups per second with `concurrency` lookups in flight, over `lookups * 2` lookups in all. */
async function rate(lookup, email) {
  let left = lookups * 2;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await lookup.lookup([email], signal);
    }),
  );
  return (lookups * 2) / ((performance.now() - started) / 1000);
}

const cold = async () => ({ keys: createKeyLookup(config(0)), cacheStats: () => null, close: async () => undefined });
const ways = [
  ['cold: connection per lookup (filter/deliver)', cold],
  ['warm: pool, no key cache (serve_key_cache = 0)', () => openWarmStore(config(0))],
  ['warm: pool + key cache (serve default)', () => openWarmStore(config(60_000))],
];
try {
  console.log(`${lookups} sequential lookups each: ms per lookup (median / p90); then ${concurrency} in flight`);
  for (const recipient of recipients) {
    for (const [name, open] of ways) {
      // One store at a time, closed before the next: the test cluster's max_connections is 20.
      const store = await open();
      const { median: m, p90 } = await time(store.keys, recipient.email);
      const perSecond = await rate(store.keys, recipient.email);
      const stats = store.cacheStats();
      await store.close();
      const line = `${recipient.label.padEnd(11)} ${name.padEnd(48)} ${m.toFixed(3).padStart(7)} / ${p90.toFixed(3)}`;
      console.log(`${line}  ${Math.round(perSecond)}/s${stats === null ? '' : ` cache ${JSON.stringify(stats)}`}`);
    }
  }
} finally {
  await db.stop();
}
