// Re-makes the bundle's V8 code cache when the installed Node rejects the shipped one (another Node version or
// V8 flags than the build machine's): without it every pgpipe start compiles 2.5 MB of JavaScript (~70 ms more per
// message). Run by npm's postinstall, the Debian postinst, and its trigger when the nodejs package changes.
// It never fails an install: pgpipe works without a cache, only slower. Exit status is always 0.
// Usage: node scripts/refresh-code-cache.mjs [--quiet]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const quiet = process.argv.includes('--quiet');
const say = (line) => quiet || process.stdout.write(`pgpipe: ${line}\n`);
const loader = `${root}dist/bundle/load-bundle.cjs`;
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', PGPIPE_CONFIG: '/dev/null', HOME: '/nonexistent' };

/** What the real start (bin/pgpipe) does with the cache: 'used', 'rejected', 'absent', or the failure. */
function cacheState() {
  const probe = spawnSync(process.execPath, [`${root}bin/pgpipe`, '--version'], {
    env: { ...env, PGPIPE_DEBUG_CODE_CACHE: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return /code cache (\w+)/.exec(probe.stderr ?? '')?.[1] ?? `not reported (exit ${probe.status ?? probe.signal})`;
}

if (!existsSync(loader)) {
  say('no bundle in dist/, nothing to refresh');
} else {
  const before = cacheState();
  if (before === 'used') {
    say('code cache is current');
  } else if (before !== 'rejected' && before !== 'absent') {
    // bin/pgpipe does not load the bundle here (it runs dist/cli.js), so a cache would not be read either.
    say(`bundle not in use (code cache ${before}), nothing to refresh`);
  } else {
    // The loader's build-time entry (as scripts/build-bundle.mjs calls it): runs the warm-up (throwaway keys, a
    // synthetic message) and writes the cache.
    const write =
      `require(${JSON.stringify(loader)}).writeCodeCache()` +
      '.catch((error) => { console.error(error); process.exitCode = 1; });';
    const made = spawnSync(process.execPath, ['-e', write], { env, encoding: 'utf8', timeout: 300e3 });
    const after = made.status === 0 ? cacheState() : `not written (${(made.stderr ?? '').trim().split('\n')[0]})`;
    if (after === 'used') say(`code cache ${before}, re-made for node ${process.version}`);
    else process.stderr.write(`pgpipe: warning: code cache ${before} and ${after}; pgpipe works, but starts slower\n`);
  }
}
