// Copies the pgpipe build under test (bin/, dist/, package.json; node_modules linked) into the run's temp dir, so a
// rebuild during the run (e.g. `npm test` runs tsc, which stamps dist/ 'unbundled' and sends bin/pgpipe to its slow
// path) cannot change what is measured halfway. Reports how pgpipe starts, judged by the copy's own loader.
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

/** How bin/pgpipe in `appDir` will start: the rule of src/bundle/load-bundle.cts (the bundle's build id). */
export async function describeStart(appDir) {
  let state = 'absent';
  try {
    state = createRequire(import.meta.url)(resolve(appDir, 'dist', 'bundle', 'load-bundle.cjs')).bundleState();
  } catch {
    // no loader: an old or broken dist/
  }
  if (state === 'current') return 'esbuild bundle + V8 code cache (dist/pgpipe-bundle.cjs, same build id as dist/)';
  if (state === 'stale') return 'plain dist/cli.js (the bundle is from another build: run `npm run build`)';
  return 'plain dist/cli.js (no bundle: run `npm run build`)';
}

/** @returns {Promise<{ bin: string, start: string }>} the frozen bin/pgpipe and how it starts */
export async function freezeBuild(root, dir) {
  const app = join(dir, 'app');
  mkdirSync(app, { recursive: true });
  for (const name of ['bin', 'dist', 'package.json']) cpSync(join(root, name), join(app, name), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'), 'dir');
  return { bin: join(app, 'bin', 'pgpipe'), start: await describeStart(app) };
}
