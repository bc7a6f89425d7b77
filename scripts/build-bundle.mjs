// Build step after tsc (`npm run build`): bundles dist/ into one CommonJS file with esbuild, stamps one build id
// into both (the bundle's first line and the loader dist/bundle/load-bundle.cjs), and writes the bundle's V8 code
// cache after a build-time warm-up, so a pgpipe start reads and compiles one script instead of ~300 modules. The
// entry, the warm-up and the loader are TypeScript in src/bundle/ (entry.ts, load-bundle.cts); this file only
// drives esbuild.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';

const root = process.cwd();
const dist = resolve(root, 'dist');
const bundle = join(dist, 'pgpipe-bundle.cjs');
const loader = join(dist, 'bundle', 'load-bundle.cjs');

// Removed first so that a failed build leaves no half-made bundle behind (bin/pgpipe then runs dist/cli.js).
for (const file of [bundle, `${bundle}.v8-cache`]) rmSync(file, { force: true });

// esbuild is a devDependency: an install without it (npm ci --omit=dev) keeps the plain dist/cli.js start.
let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  console.log('bundle: esbuild not installed, skipped (bin/pgpipe runs dist/cli.js)');
  process.exit(0);
}

// The build id: a hash of the compiled code the bundle is made from (the loader, which holds the id, left out).
const files = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
const hash = createHash('sha256');
for (const file of files(dist).sort())
  hash
    .update(`${relative(dist, file)}\0`)
    .update(readFileSync(file))
    .update('\0');
const buildId = hash.digest('hex').slice(0, 16);
const emitted = readFileSync(loader, 'utf8');
const STAMP = /const BUILD_ID = '[^']*';/;
if (!STAMP.test(emitted)) throw new Error(`${loader} changed: re-check how the build id is stamped`);
writeFileSync(loader, emitted.replace(STAMP, `const BUILD_ID = '${buildId}';`));

// pg/lib/stream.js probes `typeof Response` at import to detect Cloudflare Workers; on Node 20 that loads undici and
// node:http (~8-15 ms per start). On Node it is never Cloudflare. Fails the build if pg's code changed.
const PG_PROBE = { file: /[\\/]pg[\\/]lib[\\/]stream\.js$/, from: "typeof Response === 'function'", to: 'false' };
// OpenPGP.js loads eckey-utils (Brainpool/secp256k1 ECDSA through node:crypto) with a createRequire() call esbuild
// cannot follow: made a plain require() it is bundled, and it stays lazy (run only when such a key is checked).
const ECKEY = {
  file: /[\\/]openpgp[\\/]dist[\\/]node[\\/]openpgp\.mjs$/,
  from: "util.nodeRequire('eckey-utils')",
  to: "require('eckey-utils')",
  count: 2,
};
const importPatches = {
  name: 'pgpipe-import-patches',
  setup(b) {
    b.onLoad({ filter: PG_PROBE.file }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes(PG_PROBE.from)) throw new Error(`${args.path} changed: re-check the bundle's import patch`);
      return { contents: text.replace(PG_PROBE.from, PG_PROBE.to), loader: 'js' };
    });
    b.onLoad({ filter: ECKEY.file }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (text.split(ECKEY.from).length - 1 !== ECKEY.count) {
        throw new Error(`${args.path} changed: re-check the bundle's eckey-utils patch`);
      }
      return { contents: text.replaceAll(ECKEY.from, ECKEY.to), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [join(dist, 'bundle', 'entry.js')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: bundle,
  // The embedded store (PGlite) loads its WASM files relative to its own package: it stays a lazy import from
  // node_modules, never bundled. smtp-server is only for the resident `pgpipe serve`, whose start-up does not count:
  // left out, it adds nothing to every pipe(8) start's parse.
  external: ['@electric-sql/pglite', 'smtp-server', 'smtp-server/*'],
  plugins: [importPatches],
  // The first line names the build (src/bundle/load-bundle.cts checks it). openpgp.mjs uses import.meta.url
  // (createRequire); CommonJS output has __filename instead.
  banner: {
    js:
      `/* pgpipe build ${buildId} */\n` +
      "const __pgpipeImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
  },
  define: { 'import.meta.url': '__pgpipeImportMetaUrl' },
  logLevel: 'error',
});

// The warm-up runs in a fresh process, as a pgpipe start would.
const write =
  `require(${JSON.stringify(loader)}).writeCodeCache()` +
  '.catch((error) => { console.error(error); process.exitCode = 1; });';
execFileSync(process.execPath, ['-e', write], { stdio: 'inherit' });
console.log(`bundle: ${bundle} (build ${buildId})`);
