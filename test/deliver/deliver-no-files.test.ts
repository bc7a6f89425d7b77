// `pgpipe deliver` writes no file (strace of a whole delivery: pgpipe, spamc stand-in, the LMTP client), and the
// plaintext token of a keyed recipient's message reaches neither the output line nor the LMTP server outside the
// OpenPGP payload.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { PGPIPE_BIN } from '../helpers/run-cli.js';
import { HAS_STRACE, straceArgv } from '../helpers/strace.js';
import { seedStore } from '../helpers/seed.js';
import { decryptWithGpg } from '../helpers/decrypt.js';
import { startFakeLmtp, type FakeLmtp } from './fake-lmtp.js';

let pg: PgCluster;
let bob: TestKey;
let lmtp: FakeLmtp;
before(async () => {
  pg = await startPostgres();
  bob = await makeKey({ kind: 'curve25519', email: 'bob@example.org' });
  await seedStore({ databaseUrl: pg.url }, [{ email: 'bob@example.org', pgpkey: bob.publicArmored }], []);
  lmtp = await startFakeLmtp();
});
after(async () => {
  await lmtp?.close();
  await pg?.stop();
});

it(
  'strace: no file created, written, renamed or removed; only ciphertext reached the LMTP server',
  { skip: !HAS_STRACE && process.env.CI !== 'true' },
  async () => {
    assert.ok(HAS_STRACE, 'strace is required in CI');
    const token = `tok${process.pid}x${Date.now()}`;
    const message = `From: a@example.net\nTo: bob@example.org\nSubject: subj ${token}\n\nbody ${token}\n`;
    const trace = join(tmpdir(), `pgpipe-deliver-strace-${process.pid}.txt`);
    try {
      // spawn, not spawnSync: the LMTP server runs in this process and must keep answering.
      const child = spawn(
        'strace',
        straceArgv(
          trace,
          process.execPath,
          PGPIPE_BIN,
          'deliver',
          '--db',
          pg.url,
          '--lmtp',
          lmtp.address,
          '--no-spam-check',
          '-f',
          'a@example.net',
          '--',
          'bob@example.org',
        ),
        { env: { PATH: '/usr/bin:/bin', PGPIPE_CONFIG: '/dev/null' }, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
      child.stdin.end(message);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0, output);
      assert.match(output, /^2\.0\.0 pgpipe: 1 rcpt: encrypted /);
      assert.ok(!output.includes(token), output);
      const traced = readFileSync(trace, 'latin1');
      assert.match(traced, /openat\(.*O_RDONLY/, 'the trace saw the files pgpipe read (it is not vacuous)');
      const writes = traced
        .split('\n')
        .filter(
          (line) =>
            /(O_WRONLY|O_RDWR|O_CREAT|mkdir|rename|unlink|link\(|truncate)/.test(line) &&
            !/= -1 /.test(line) &&
            !/"\/dev\/(null|tty|pts\/)/.test(line),
        );
      assert.deepEqual(writes, [], 'deliver created or wrote no file');
      const stored = lmtp.transactions.at(-1)?.data ?? Buffer.alloc(0);
      assert.ok(stored.length > 0 && !stored.includes(token), 'no plaintext outside the OpenPGP payload');
      assert.ok((await decryptWithGpg(stored, bob.privateArmored)).includes(token));
    } finally {
      rmSync(trace, { force: true });
    }
  },
);
