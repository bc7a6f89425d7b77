// `npm run demo` is the first thing a newcomer runs: it must work with no database server and no config.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedEmbeddedDir } from '../helpers/embedded-template.js';

it('npm run demo: embedded store, encrypt, decrypt back, protected Subject', () => {
  const home = mkdtempSync(join(tmpdir(), 'pgpipe-demo-home-'));
  try {
    const store = join(home, '.local', 'share', 'pgpipe');
    mkdirSync(store, { recursive: true });
    seedEmbeddedDir(join(store, 'db')); // the default location for a user with this HOME
    const demo = fileURLToPath(new URL('../../scripts/demo.js', import.meta.url));
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home };
    for (const run of [1, 2]) {
      // The second run finds the demo user and rotates its key instead of failing.
      const result = spawnSync(process.execPath, [demo], { env, encoding: 'utf8', timeout: 120_000 });
      assert.equal(result.status, 0, `run ${run}: ${result.stderr}`);
      assert.match(result.stdout, /round trip OK: body intact, real Subject only inside the encryption/);
      assert.match(result.stdout, /Content-Type: multipart\/encrypted; protocol="application\/pgp-encrypted"/);
      assert.match(result.stdout, /Subject: \[\.\.\.\]/);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
