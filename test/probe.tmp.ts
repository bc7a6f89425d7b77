import { startPostgres } from './helpers/pg-cluster.js';
import { seedStore } from './helpers/seed.js';
import { makeKey } from './helpers/keys.js';
import { startServe } from './helpers/serve-process.js';
import { startFakeLmtp } from './deliver/fake-lmtp.js';
import { createLmtp } from '../src/adapters/lmtp.js';
const cluster = await startPostgres();
const bob = await makeKey({ kind: 'curve25519', email: 'bob@example.org' });
await seedStore({ databaseUrl: cluster.url }, [{ email: 'bob@example.org', pgpkey: bob.publicArmored }]);
import { spawn } from 'node:child_process';
const sock = '/tmp/probe-sink.sock';
const sink = spawn(process.execPath, ['bench/lmtp-sink.js', sock], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((r) => sink.stdout.once('data', r));
const next = { address: 'unix:' + sock, close: async () => { sink.kill(); } };
const serve = await startServe(['--db', cluster.url, '--next', next.address, '--no-spam-check', '--log', 'none']);
const body = 'From: a@example.net\r\nTo: bob@example.org\r\nSubject: x\r\n\r\n' + ('hello world 0123456789\r\n'.repeat(420));
const lmtp = createLmtp({ lmtp: serve.address });
for (const c of [1, 4, 16, 32]) {
  const n = c * 25; let done = 0; const lat: number[] = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, async () => {
    while (done < n) { done++; const s = performance.now();
      const r = await lmtp.deliver(Buffer.from(body), { sender: 'a@example.net', recipients: ['bob@example.org'] }, AbortSignal.timeout(30000));
      if (r.kind !== 'replied' || r.replies[0].code !== 250) console.log('bad', JSON.stringify(r));
      lat.push(performance.now() - s); }
  }));
  const t = (performance.now() - t0) / 1000; lat.sort((a, b) => a - b);
  console.log(`c=${c} ${(n / t).toFixed(1)} msg/s p50=${lat[Math.floor(lat.length * 0.5)].toFixed(1)} p99=${lat[Math.floor(lat.length * 0.99)].toFixed(1)}`);
}
await serve.stop(); await next.close(); await cluster.stop();
