// bin/pgpipe's choice of entry: the code-cached bundle only when its first line carries dist/'s build id (stamped
// into the loader dist/bundle/load-bundle.cjs), dist/cli.js when the bundle is from another build, missing or fails
// to load, and in a pipe mode "4.3.0 pgpipe: cannot start" + 75 when nothing loads. Then the real build step
// (scripts/build-bundle.mjs) on a copy of dist/: the bundle runs encrypt and filter.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedEmbeddedDir } from '../helpers/embedded-template.js';
import { runCli } from '../helpers/run-cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** bin/pgpipe at `bin` (a copy beside a fake or copied dist/), through the one CLI spawner. */
async function run(
  bin: string,
  args: string[],
  env: Record<string, string> = {},
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const result = await runCli(args, { bin, input, env: { HOME: tmpdir(), ...env } });
  return { code: result.code, stdout: result.stdout.toString('latin1'), stderr: result.stderr };
}

describe('bin/pgpipe entry choice (fake dist)', () => {
  let dir = '';
  let bin = '';
  const say = (from: string): string => `process.stdout.write('${from}:' + argv.join(',') + ':' + mode.kind);`;
  const CLI = `export async function main(argv, mode) { ${say('dist')} }\n`;
  const BUNDLE = `module.exports = { main: async (argv, mode) => { ${say('bundle')} } };\n`;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pgpipe-bin-'));
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'dist', 'bundle'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    bin = join(dir, 'bin', 'pgpipe');
    copyFileSync(join(ROOT, 'bin', 'pgpipe'), bin);
    // The real mode rule and loader (its build id restamped below); cli.js and the bundle are fakes.
    copyFileSync(join(ROOT, 'dist', 'modes.js'), join(dir, 'dist', 'modes.js'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes the fake dist: cli.js, the bundle (null: absent) stamped `bundleId`, and dist's own build id. */
  function fakeDist(cli: string | null, bundle: string | null, bundleId: string, distId = 'b1'): void {
    for (const name of ['cli.js', 'pgpipe-bundle.cjs']) rmSync(join(dir, 'dist', name), { force: true });
    const loader = readFileSync(join(ROOT, 'dist', 'bundle', 'load-bundle.cjs'), 'utf8');
    const STAMP = /const BUILD_ID = '[^']*';/;
    assert.match(loader, STAMP);
    const stampedLoader = loader.replace(STAMP, `const BUILD_ID = '${distId}';`);
    writeFileSync(join(dir, 'dist', 'bundle', 'load-bundle.cjs'), stampedLoader);
    if (cli !== null) writeFileSync(join(dir, 'dist', 'cli.js'), cli);
    const stamped = `/* pgpipe build ${bundleId} */\n${bundle}`;
    if (bundle !== null) writeFileSync(join(dir, 'dist', 'pgpipe-bundle.cjs'), stamped);
  }

  it('uses the bundle when it carries the build id of dist/', async () => {
    fakeDist(CLI, BUNDLE, 'b1');
    assert.equal((await run(bin, ['encrypt', 'x'])).stdout, 'bundle:encrypt,x:hand');
  });

  it('uses dist/cli.js when the bundle is from another build, or tsc ran since (dist/ says "unbundled")', async () => {
    fakeDist(CLI, BUNDLE, 'b0');
    assert.equal((await run(bin, ['encrypt', 'x'])).stdout, 'dist:encrypt,x:hand');
    fakeDist(CLI, BUNDLE, 'unbundled', 'unbundled');
    assert.equal((await run(bin, ['encrypt', 'x'])).stdout, 'dist:encrypt,x:hand');
  });

  it('uses dist/cli.js when there is no bundle; main gets the mode bin/pgpipe decided', async () => {
    fakeDist(CLI, null, 'b1');
    assert.equal((await run(bin, ['filter'])).stdout, 'dist:filter:pipe');
    assert.equal((await run(bin, ['filtr', '-f', 'a'])).stdout, 'dist:filtr,-f,a:pipe-mistake');
  });

  it('falls back to dist/cli.js when the bundle throws while loading or exports no main', async () => {
    for (const bundle of [
      "throw new Error('broken bundle');\n",
      'module.exports = {};\n',
      'this is not javascript(\n',
    ]) {
      fakeDist(CLI, bundle, 'b1');
      const result = await run(bin, ['filter', '-f', 'a']);
      assert.equal(result.stdout, 'dist:filter,-f,a:pipe');
      assert.equal(result.code, 0);
      assert.equal(result.stderr, '');
    }
  });

  it('filter mode: nothing loads → one "4.3.0 pgpipe: cannot start" line and exit 75', async () => {
    fakeDist("throw new Error('broken cli');\n", "throw new Error('broken bundle');\n", 'b1');
    const result = await run(bin, ['filter', '-f', 'a', '--', 'b@example.org']);
    assert.equal(result.code, 75);
    assert.equal(result.stderr, '4.3.0 pgpipe: cannot start\n');
    assert.equal(result.stdout, '');
  });

  it('filter mode: a bundle from another build is never loaded, even as a last resort', async () => {
    fakeDist(null, BUNDLE, 'b0');
    const result = await run(bin, ['filter']);
    assert.equal(result.code, 75);
    assert.equal(result.stdout, '');
  });

  it('other commands: a failure to load is not turned into 75', async () => {
    fakeDist("throw new Error('broken cli');\n", null, 'b1');
    const result = await run(bin, ['encrypt']);
    assert.notEqual(result.code, 75);
    assert.notEqual(result.code, 0);
  });

  it('a dist/ so broken that the mode cannot be told defers (a message may be waiting)', async () => {
    fakeDist(CLI, BUNDLE, 'b1');
    const modes = join(dir, 'dist', 'modes.js');
    const saved = readFileSync(modes);
    rmSync(modes);
    try {
      const result = await run(bin, ['filter', '-f', 'a', '--', 'b@example.org']);
      assert.equal(result.code, 75);
      assert.equal(result.stderr, '4.3.0 pgpipe: cannot start\n');
    } finally {
      writeFileSync(modes, saved);
    }
  });
});

describe('scripts/build-bundle.mjs on a copy of dist/ (real bundle and code cache)', () => {
  let dir = '';
  let bin = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pgpipe-bundle-'));
    cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
    for (const stale of ['pgpipe-bundle.cjs', 'pgpipe-bundle.cjs.v8-cache'])
      rmSync(join(dir, 'dist', stale), { force: true });
    mkdirSync(join(dir, 'bin'));
    bin = join(dir, 'bin', 'pgpipe');
    copyFileSync(join(ROOT, 'bin', 'pgpipe'), bin);
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('builds, and the bundle runs through its code cache', { timeout: 180_000 }, async () => {
    const build = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [join(ROOT, 'scripts', 'build-bundle.mjs')], { cwd: dir, stdio: 'ignore' });
      child.on('error', reject);
      child.on('close', resolve);
    });
    assert.equal(build, 0);
    const help = await run(bin, ['--help'], { PGPIPE_DEBUG_CODE_CACHE: '1' });
    assert.equal(help.code, 0);
    assert.match(help.stderr, /code cache used/);
    for (const command of ['encrypt', 'filter', 'user', 'key', 'alias', 'doctor', 'db'])
      assert.match(help.stdout, new RegExp(`\\n  ${command}\\b`));
  });

  it(
    'bundle: encrypt with the embedded store (PGlite loaded from node_modules) passes a keyless message through',
    { timeout: 120_000 },
    async () => {
      const dataDir = seedEmbeddedDir(join(dir, 'db'));
      const message = 'From: a@example.net\nTo: nobody@example.org\nSubject: bundle\n\nbody\n';
      const result = await run(
        bin,
        ['encrypt', '--to', 'nobody@example.org'],
        { PGPIPE_DATA_DIR: dataDir, PGPIPE_DEBUG_CODE_CACHE: '1' },
        message,
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, message);
      assert.match(result.stderr, /code cache used/);
    },
  );

  it('bundle: filter with bad arguments still defers with one 4.x.x line', async () => {
    const result = await run(bin, ['filter', '--frobnicate']);
    assert.equal(result.code, 75);
    assert.match(result.stderr, /^4\.3\.5 pgpipe: [^\n]+\n$/);
  });
});
