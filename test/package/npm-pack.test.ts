// The npm package: `npm pack` ships the built program and nothing else (no tests, no TypeScript, no dev tooling),
// and `npm install -g --omit=dev` of the tarball gives a pgpipe that runs with no build step and no dev
// dependencies. Installed into a temporary prefix, so the machine's own /usr stays untouched (no root needed).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decryptWithGpg, parsePgpMime } from '../helpers/decrypt.js';
import { seedEmbeddedDir } from '../helpers/embedded-template.js';
import { makeKey } from '../helpers/keys.js';
import { seedStore } from '../helpers/seed.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

interface PackedFile {
  readonly path: string;
  readonly mode: number;
}

/** `npm pack` of the dist/ test/run.js just built (the build itself is prepack/prepare, run by a real pack). */
async function pack(args: string[]): Promise<{ filename: string; files: PackedFile[] }> {
  const options = { cwd: ROOT, maxBuffer: 2 ** 24 };
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', ...args], options);
  return (JSON.parse(stdout) as { filename: string; files: PackedFile[] }[])[0]!;
}

describe('npm pack', () => {
  it('ships bin, the built dist (bundle and code cache), snippets, cache refresher: nothing else', async () => {
    const { files } = await pack(['--dry-run']);
    const paths = files.map((f) => f.path);
    const allowed =
      /^(bin\/[^/]+|dist\/.+|postfix-snippets\/[^/]+|scripts\/refresh-code-cache\.mjs|package\.json|README\.md)$/;
    assert.deepEqual(
      paths.filter((p) => !allowed.test(p)),
      [],
      'files outside the runtime set',
    );
    const needed = ['bin/pgpipe', 'dist/cli.js', 'dist/bundle/load-bundle.cjs', 'dist/pgpipe-bundle.cjs'];
    for (const path of [...needed, 'postfix-snippets/master.cf']) assert.ok(paths.includes(path), `${path} missing`);
    assert.ok(
      paths.some((p) => p.endsWith('.v8-cache')),
      'no code cache',
    );
    const sources = paths.filter((p) => /\.(ts|mts|map|tsbuildinfo)$|(^|\/)test\//.test(p));
    assert.deepEqual(sources, [], 'sources or tests shipped');
    assert.equal((files.find((f) => f.path === 'bin/pgpipe')?.mode ?? 0) & 0o111, 0o111, 'bin/pgpipe not executable');
  });
});

describe('npm install -g --omit=dev of the tarball', () => {
  let dir = '';
  let bin = '';
  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'pgpipe-npm-'));
      const { filename } = await pack(['--pack-destination', dir]);
      await run(
        'npm',
        [
          'install',
          '-g',
          '--prefix',
          join(dir, 'prefix'),
          '--omit=dev',
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          join(dir, filename),
        ],
        { cwd: dir },
      );
      bin = join(dir, 'prefix/bin/pgpipe');
    },
    { timeout: 180_000 },
  );
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('installs no dev dependency and no build tool', () => {
    const modules = join(dir, 'prefix/lib/node_modules/pgpipe/node_modules');
    for (const dev of ['typescript', 'esbuild', 'tsx', '@types/node']) {
      assert.ok(!existsSync(join(modules, dev)), `${dev} installed`);
    }
    assert.ok(existsSync(join(modules, 'openpgp')), 'runtime dependency missing');
  });

  it('starts and encrypts a message, with no build step', async () => {
    assert.equal(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim(), pkg.version);
    const key = await makeKey({ kind: 'curve25519', email: 'bob@npm.test' });
    const dataDir = seedEmbeddedDir(join(dir, 'store'));
    await seedStore({ dataDir }, [{ email: 'bob@npm.test', pgpkey: key.publicArmored }]);
    const result = spawnSync(bin, ['encrypt', '--to', 'bob@npm.test', '--data-dir', dataDir], {
      input: 'From: a@x.test\nTo: bob@npm.test\nSubject: npm\n\nInstalled from the tarball.\n',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PGPIPE_CONFIG: '/dev/null' },
    });
    assert.equal(result.status, 0, result.stderr.toString());
    parsePgpMime(result.stdout);
    assert.match((await decryptWithGpg(result.stdout, key.privateArmored)).toString(), /Installed from the tarball\./);
  });

  // bin/pgpipe picks the bundle by its build id, not file dates: npm's extraction dates each file as it writes it.
  it('starts from the bundle with its code cache, like the checkout', () => {
    const env = { ...process.env, PGPIPE_DEBUG_CODE_CACHE: '1' };
    const probe = spawnSync(bin, ['--version'], { encoding: 'utf8', env });
    assert.match(probe.stderr, /code cache used/);
  });
});
