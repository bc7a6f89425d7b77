// Copies the pgpipe build under test (bin/, dist/, package.json; node_modules linked) into the run's temp dir, with
// timestamps kept, so a rebuild during the run (e.g. `npm test` runs tsc, which makes dist/cli.js newer than the
// bundle and sends bin/pgpipe to its slow path) cannot change what is measured halfway. Reports how pgpipe starts.
import { cpSync, existsSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : -1);

/** How bin/pgpipe will start, judged the way it judges: the bundle counts only when newer than dist/cli.js. */
export function describeStart(appDir) {
  const dist = join(appDir, 'dist');
  const cli = mtime(join(dist, 'cli.js'));
  const fresh = (name) => mtime(join(dist, name)) >= cli;
  if (fresh('pgpipe.blob')) return 'V8 startup snapshot (dist/pgpipe.blob)';
  if (fresh('pgpipe-cached.cjs') && fresh('pgpipe-bundle.cjs')) return 'esbuild bundle + V8 code cache (dist/pgpipe-cached.cjs)';
  return 'plain dist/cli.js (no fresh bundle: run `npm run build`)';
}

/** @returns {{ bin: string, start: string }} the frozen bin/pgpipe and how it starts */
export function freezeBuild(root, dir) {
  const app = join(dir, 'app');
  mkdirSync(app, { recursive: true });
  for (const name of ['bin', 'dist', 'package.json']) {
    cpSync(join(root, name), join(app, name), { recursive: true, preserveTimestamps: true });
  }
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'), 'dir');
  return { bin: join(app, 'bin', 'pgpipe'), start: describeStart(app) };
}
