#!/usr/bin/env node
// Key lookup cost inside one process: today's open-a-connection-per-lookup (createKeyLookup, what filter/deliver
// do once per message) against serve's warm store (pool + memo of parsed keys), and the pool without the memo, for
// one recipient with a Curve25519 key and one with RSA-4096, on a throwaway PostgreSQL on a unix socket.
// Usage: node bench/key-lookup.js [--lookups 200]. Prints medians and p90 in ms; writes nothing.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateKey } from 'openpgp';
import { median } from './measure.js';
import { startKeyDatabase } from './postgres.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: opts } = parseArgs({ options: { lookups: { type: 'string', default: '200' } } });
const lookups = Number(opts.lookups);

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

try {
  const warm = await openWarmStore(config(60_000));
  const poolOnly = await openWarmStore(config(0));
  const ways = [
    ['cold: connection per lookup (filter/deliver)', createKeyLookup(config(0))],
    ['warm: pool, no key cache (serve_key_cache = 0)', poolOnly.keys],
    ['warm: pool + key cache (serve default)', warm.keys],
  ];
  console.log(`${lookups} sequential lookups each; ms per lookup (median / p90)`);
  for (const recipient of recipients) {
    for (const [name, lookup] of ways) {
      const { median: m, p90 } = await time(lookup, recipient.email);
      console.log(`${recipient.label.padEnd(11)} ${name.padEnd(48)} ${m.toFixed(3).padStart(7)} / ${p90.toFixed(3)}`);
    }
  }
  console.log('key cache:', JSON.stringify(warm.cacheStats()));
  await Promise.all([warm.close(), poolOnly.close()]);
} finally {
  await db.stop();
}
