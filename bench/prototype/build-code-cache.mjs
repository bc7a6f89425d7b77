// PROTOTYPE (bench only, not the build): one esbuild bundle plus a V8 code cache for it, produced at build time
// after a warm-up (throwaway key, synthetic message), so a start skips most parsing and compiling. Unlike a startup
// snapshot it needs no wrapper: V8 rejects a cache from another V8 version and simply compiles (slower, correct).
// Usage (from the repository root, after npm run build): node bench/prototype/build-code-cache.mjs OUTDIR [flags]
//   → OUTDIR/pgpipe.cjs (run it: node OUTDIR/pgpipe.cjs <pgpipe args...>), OUTDIR/bundle.cjs, OUTDIR/bundle.cjs.v8-cache
// Flags as build-snapshot.mjs: --light-charsets, --no-admin. The cache holds compiled code only, never message text.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lightCharsets, noAdmin, snapshotPatches } from './build-snapshot-plugin.mjs';
import { WARM_UP } from './warm-up.mjs';

const outDir = resolve(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'dist-cached');
mkdirSync(outDir, { recursive: true });
const entry = `
export { main } from './dist/cli.js';
${WARM_UP}
export { warmUp };
`;
await build({
  plugins: [
    snapshotPatches,
    ...(process.argv.includes('--light-charsets') ? [lightCharsets] : []),
    ...(process.argv.includes('--no-admin') ? [noAdmin] : []),
  ],
  stdin: { contents: entry, resolveDir: process.cwd(), sourcefile: 'bundle-entry.js', loader: 'js' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: join(outDir, 'bundle.cjs'),
  external: ['@electric-sql/pglite'],
  banner: { js: "const __pgpipeImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__pgpipeImportMetaUrl' },
  logLevel: 'error',
});
writeFileSync(join(outDir, 'pgpipe.cjs'), `'use strict';
// Runs bundle.cjs through V8's code cache (bundle.cjs.v8-cache, made at build time by --write-code-cache).
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script, constants } = require('node:vm');
const { createRequire, wrap } = require('node:module');
const file = join(__dirname, 'bundle.cjs');
const cacheFile = file + '.v8-cache';
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  // no cache: compile from source
}
const script = new Script(wrap(readFileSync(file, 'utf8')), {
  filename: file,
  cachedData,
  importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
const bundle = { exports: {} };
script.runInThisContext()(bundle.exports, createRequire(file), bundle, file, __dirname);
if (process.argv[2] === '--write-code-cache') {
  bundle.exports.warmUp().then(() => writeFileSync(cacheFile, script.createCachedData()));
} else {
  if (process.env.PGPIPE_DEBUG_CODE_CACHE) process.stderr.write('code cache ' + (cachedData ? (script.cachedDataRejected ? 'rejected' : 'used') : 'absent') + '\\n');
  bundle.exports.main(process.argv.slice(2));
}
`);
execFileSync(process.execPath, [join(outDir, 'pgpipe.cjs'), '--write-code-cache'], { stdio: 'inherit' });
console.log(`built ${join(outDir, 'pgpipe.cjs')}`);
