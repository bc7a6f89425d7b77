// The Debian package on this machine, as an administrator uses it: built by scripts/package-deb.mjs, lintian
// clean, installed with apt-get, Postfix filtering through the installed /usr/bin/pgpipe (test/e2e/postfix.test.ts
// with PGPIPE_E2E_BIN), an upgrade from a lower version keeping an edited config, a nodejs change re-making the
// code cache, remove keeping only the config, purge leaving nothing (user included). Needs root; changes the
// machine (installs and purges the package pgpipe), so it refuses to run where pgpipe is already installed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const PREVIOUS = `${VERSION}~previous`; // sorts before VERSION
const CONF = '/etc/pgpipe/pgpipe.conf';
const CACHE_DIR = '/var/cache/pgpipe';
const UNIT = '/lib/systemd/system/pgpipe-serve.service';
// The e2e cases against the installed program run the e2e suite's Postfix and Dovecot: PGPIPE_TEST_SKIP=e2e skips
// them here too (test/run.js skips the e2e directory by that name).
const skipE2e = (process.env.PGPIPE_TEST_SKIP ?? '').split(',').includes('e2e') ? 'PGPIPE_TEST_SKIP=e2e' : false;
/** Links an admin's `systemctl enable` (or a mask) would leave in /etc/systemd/system. */
const unitLinks = (): string =>
  spawnSync('find', ['/etc/systemd/system', '-name', 'pgpipe-serve.service*'], { encoding: 'utf8' }).stdout;

const ok = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
/** dpkg's "want ok state version" for pgpipe, '' when dpkg never heard of it. */
const status = (): string =>
  spawnSync('dpkg-query', ['-W', '-f=${Status} ${Version}', 'pgpipe'], { encoding: 'utf8' }).stdout;
/** Anything of the package on disk: installed, half-way, or removed with its config left. */
const present = (): boolean =>
  / (installed|config-files|half-installed|half-configured|unpacked|triggers-\w+) /.test(status());
const skipReason = ((): string | false => {
  if (process.getuid?.() !== 0) return 'needs root: installs, upgrades and purges the .deb (CI runs as root)';
  for (const tool of ['dpkg-deb', 'apt-get', 'lintian', 'postfix', 'spamd', 'systemd-analyze']) {
    const found = ok('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`]);
    if (!found) return `${tool} not installed (.ci/run installs it)`;
  }
  if (present()) return 'the package pgpipe is installed here (or its config is left); this test would purge it';
  return false;
})();

const sh = async (cmd: string, args: string[]): Promise<string> =>
  (await exec(cmd, args, { maxBuffer: 1 << 26, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })).stdout;
const apt = (...args: string[]) => sh('apt-get', ['-y', '-q', ...args]);
const hasUser = (name: string): boolean => ok('getent', ['passwd', name]);
const hasGroup = (name: string): boolean => ok('getent', ['group', name]);
/** What bin/pgpipe's loader did with the code cache: used, rejected or absent ('' when the bundle was not loaded). */
const cacheState = (): string =>
  /code cache (\w+)/.exec(
    spawnSync('/usr/bin/pgpipe', ['--version'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', PGPIPE_DEBUG_CODE_CACHE: '1' },
    }).stderr,
  )?.[1] ?? '';

describe('Debian package', { skip: skipReason }, () => {
  let dir = '';
  let deb = '';
  let previousDeb = '';
  let preexisting = new Set<string>(); // package paths that existed before the install (/usr/bin, /etc, ...)

  before(
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'pgpipe-deb-test-'));
      // test/run.js has just built dist/ from these sources: pack that (npm run package:deb rebuilds first).
      const built = await sh(process.execPath, [
        join(ROOT, 'scripts/package-deb.mjs'),
        '--out',
        dir,
        '--no-build',
        '--compression',
        'gzip',
      ]);
      deb = built.trim().split('\n').at(-1) ?? '';
      // The previous version: the same package with a lower version number.
      const tree = join(dir, 'previous');
      await sh('dpkg-deb', ['-R', deb, tree]);
      const control = join(tree, 'DEBIAN/control');
      writeFileSync(control, readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: ${PREVIOUS}`));
      previousDeb = join(dir, `pgpipe_${PREVIOUS}_all.deb`);
      await sh('dpkg-deb', ['--root-owner-group', '-Zgzip', '-b', tree, previousDeb]);
      rmSync(tree, { recursive: true, force: true });
      const contents = await sh('dpkg-deb', ['--contents', deb]);
      const paths = contents.split('\n').map((line) => /\s\.(\/\S*?)\/?(?: -> .*)?$/.exec(line)?.[1] ?? '');
      preexisting = new Set(paths.filter((p) => p !== '' && existsSync(p)));
      // A leftover pgpipe user (test/e2e creates one with useradd) would hide whether postinst creates it.
      if (hasUser('pgpipe')) await sh('userdel', ['pgpipe']);
      if (hasGroup('pgpipe')) await sh('groupdel', ['pgpipe']);
    },
    { timeout: 240_000 },
  );

  after(
    async () => {
      if (present()) await apt('purge', 'pgpipe').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
    { timeout: 120_000 },
  );

  it('is lintian clean', async () => {
    const result = spawnSync('lintian', ['--info', deb], { encoding: 'utf8' });
    const tags = result.stdout.split('\n').filter((l) => /^[EWIPX]: /.test(l));
    assert.deepEqual(tags, []);
  });

  it('installs with apt-get: the pgpipe user, a commented config for it, pgpipe(1), a current code cache', async () => {
    const said = await apt('install', previousDeb);
    // pgpipe-serve.service is shipped, valid, and neither enabled nor started: Postfix is wired first.
    assert.equal(
      readFileSync(UNIT, 'utf8'),
      readFileSync(join(ROOT, 'packaging/systemd/pgpipe-serve.service'), 'utf8'),
    );
    const verify = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8', cwd: '/' });
    assert.equal(verify.status, 0, `${verify.stdout}${verify.stderr}`);
    assert.equal(`${verify.stdout}${verify.stderr}`.trim(), '', 'systemd-analyze verify has remarks');
    assert.equal(unitLinks(), '', 'the unit was enabled by the install');
    assert.match(said, /pgpipe-serve\.service is installed but not enabled\. .*wire Postfix first/s);
    assert.equal(status(), `install ok installed ${PREVIOUS}`);
    assert.equal(spawnSync('/usr/bin/pgpipe', ['--version'], { encoding: 'utf8' }).stdout.trim(), VERSION);
    assert.ok(hasUser('pgpipe') && hasGroup('pgpipe'), 'no pgpipe user/group');
    assert.match(await sh('getent', ['passwd', 'pgpipe']), /:\/nonexistent:\/usr\/sbin\/nologin$/m);
    const conf = statSync(CONF);
    const gid = Number((await sh('getent', ['group', 'pgpipe'])).split(':')[2]);
    assert.deepEqual([conf.mode & 0o777, conf.uid, conf.gid], [0o640, 0, gid], 'config not root:pgpipe 0640');
    const text = readFileSync(CONF, 'utf8');
    assert.match(text, /^#database_url =$/m);
    assert.ok(
      text.split('\n').every((l) => l === '' || l.startsWith('#')),
      'the installed config sets something',
    );
    assert.match(await sh('sh', ['-c', 'zcat /usr/share/man/man1/pgpipe.1.gz']), /^\.SS "pgpipe filter /m);
    assert.ok(existsSync('/usr/share/doc/pgpipe/examples/master.cf'));
    assert.equal(cacheState(), 'used');
    // Package files are as shipped (the cache lives in /var/cache, behind a symlink).
    assert.equal(await sh('dpkg', ['--verify', 'pgpipe']), '');
  });

  it('upgrades to the current version keeping the edited config', async () => {
    appendFileSync(CONF, 'missing_key = defer   # edited by the administrator\n');
    const edited = readFileSync(CONF, 'utf8');
    const said = await apt('install', deb);
    assert.doesNotMatch(said, /pgpipe-serve\.service is installed but not enabled/, 'said on every upgrade');
    assert.equal(status(), `install ok installed ${VERSION}`);
    assert.equal(readFileSync(CONF, 'utf8'), edited);
    assert.deepEqual(readdirSync('/etc/pgpipe'), ['pgpipe.conf']);
    assert.equal(cacheState(), 'used');
  });

  it('a change of the nodejs package re-makes a rejected code cache (dpkg trigger)', async () => {
    const cache = readdirSync(CACHE_DIR).find((n) => n.endsWith('.v8-cache')) ?? 'none';
    writeFileSync(join(CACHE_DIR, cache), Buffer.alloc(4096, 1)); // what another V8 version's cache amounts to
    assert.equal(cacheState(), 'rejected');
    await sh('dpkg-trigger', ['--no-await', '/usr/bin/node']);
    await sh('dpkg', ['--triggers-only', 'pgpipe']);
    assert.equal(cacheState(), 'used');
  });

  it(
    'Postfix delivers through the installed /usr/bin/pgpipe (the e2e filter cases)',
    { timeout: 300_000, skip: skipE2e },
    () => e2eAgainstInstalled('test/e2e/postfix.test.ts', '^(keyed|keyless) user:', 2),
  );

  // The install an administrator makes: the package, then `pgpipe setup postfix --mode deliver --apply` (run by
  // test/e2e/deliver.test.ts with the installed program) and a Postfix reload, then mail through Dovecot.
  it(
    'setup postfix --mode deliver --apply with the installed pgpipe gives a working delivery',
    { timeout: 300_000, skip: skipE2e },
    () => e2eAgainstInstalled('test/e2e/deliver.test.ts', '^SMTP inbound to a (keyed|keyless) user:', 2),
  );

  it('remove keeps /etc/pgpipe and the user, and leaves nothing else', async () => {
    const listed = (await sh('dpkg', ['-L', 'pgpipe'])).split('\n').filter((p) => p.startsWith('/') && p !== '/.');
    await apt('remove', 'pgpipe');
    assert.match(status(), /^deinstall ok config-files /);
    const kept = new Set(['/etc/pgpipe', CONF]);
    const left = listed.filter((p) => !kept.has(p) && !preexisting.has(p) && exists(p));
    assert.deepEqual(left, []);
    assert.deepEqual(readdirSync('/etc/pgpipe'), ['pgpipe.conf']);
    assert.match(readFileSync(CONF, 'utf8'), /edited by the administrator/);
    assert.ok(!existsSync(CACHE_DIR), `${CACHE_DIR} left behind`);
    assert.ok(hasUser('pgpipe'), 'remove deleted the user');
  });

  it('purge removes the config, the user and the group, and whatever enabled pgpipe-serve', async () => {
    await apt('install', deb);
    // What the admin does once Postfix is wired (systemctl enable, without a running systemd, makes the same link).
    await sh('systemctl', ['enable', 'pgpipe-serve.service']);
    assert.match(unitLinks(), /multi-user\.target\.wants\/pgpipe-serve\.service/);
    await apt('purge', 'pgpipe');
    assert.equal(unitLinks(), '', 'purge left pgpipe-serve links in /etc/systemd/system');
    assert.ok(!present(), status());
    assert.ok(!existsSync('/etc/pgpipe'), '/etc/pgpipe left behind');
    assert.ok(!hasUser('pgpipe'), 'pgpipe user left behind');
    assert.ok(!hasGroup('pgpipe'), 'pgpipe group left behind');
  });
});

/**
 * Runs the `namePattern` cases of an e2e test file with PGPIPE_E2E_BIN=/usr/bin/pgpipe (the file wires that
 * program into its Postfix instead of the checkout's) and requires exactly `passes` of them to pass.
 */
async function e2eAgainstInstalled(file: string, namePattern: string, passes: number): Promise<void> {
  // Without NODE_TEST_CONTEXT the child is a test run of its own, not a file of this one.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=tap', `--test-name-pattern=${namePattern}`, join(ROOT, file)],
    {
      cwd: ROOT,
      env: { ...env, PGPIPE_E2E_BIN: '/usr/bin/pgpipe' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, output);
  assert.match(output, new RegExp(`^# pass ${passes}$`, 'm'), output);
  assert.match(output, /^# fail 0$/m, output);
}

/** True for a file, directory or (even dangling) symlink. */
function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
