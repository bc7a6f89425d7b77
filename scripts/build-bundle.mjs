// Build step after tsc (`npm run build`): bundles dist/cli.js into one CommonJS file with esbuild and writes its V8
// code cache after a build-time warm-up, so a pgpipe start reads and compiles one script instead of ~300 modules.
// Writes dist/pgpipe-bundle.cjs, dist/pgpipe-bundle.cjs.v8-cache and dist/pgpipe-cached.cjs (the loader bin/pgpipe
// requires). The warm-up uses a throwaway key and a synthetic message: the cache holds compiled code, never mail.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = process.cwd();
const dist = resolve(root, 'dist');
const bundle = join(dist, 'pgpipe-bundle.cjs');
const loader = join(dist, 'pgpipe-cached.cjs');

// Left stale, an older bundle would be skipped by bin/pgpipe anyway (it is older than dist/cli.js); removed so a
// failed build leaves no half-made files behind.
for (const file of [bundle, `${bundle}.v8-cache`, loader]) rmSync(file, { force: true });

// esbuild is a devDependency: an install without it (npm ci --omit=dev) keeps the plain dist/cli.js start.
let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  console.log('bundle: esbuild not installed, skipped (bin/pgpipe runs dist/cli.js)');
  process.exit(0);
}

// pg/lib/stream.js probes `typeof Response` at import to detect Cloudflare Workers; on Node 20 that loads undici and
// node:http (~8-15 ms per start). On Node it is never Cloudflare. Fails the build if pg's code changed.
const PG_PROBE = { file: /[\\/]pg[\\/]lib[\\/]stream\.js$/, from: "typeof Response === 'function'", to: 'false' };
// OpenPGP.js loads eckey-utils (Brainpool/secp256k1 ECDSA through node:crypto) with a createRequire() call esbuild
// cannot follow: made a plain require() it is bundled, and it stays lazy (run only when such a key is checked).
const ECKEY = { file: /[\\/]openpgp[\\/]dist[\\/]node[\\/]openpgp\.mjs$/, from: "util.nodeRequire('eckey-utils')",
  to: "require('eckey-utils')", count: 2 };
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

// The CLI plus a warm-up for the code cache. Everything the warm-up needs is imported lazily, so loading the bundle
// runs no more module code than dist/cli.js does; esbuild keeps lazily imported modules lazy in the bundle.
const ENTRY = `
export { main } from './dist/cli.js';

export async function warmUp() {
  const { buildProgram } = await import('./dist/cli.js');
  const { loadConfig } = await import('./dist/config/load-config.js');
  const { splitMessage } = await import('./dist/message/split-message.js');
  const { detectProtection } = await import('./dist/message/detect-protection.js');
  const { inspectKeys } = await import('./dist/keys/inspect-keys.js');
  const { encryptPayloadArmor } = await import('./dist/keys/encrypt-payload.js');
  const { encryptMessage, headerProtectionFrom } = await import('./dist/commands/encrypt-message.js');
  await import('./dist/commands/run-encrypt.js');
  await import('./dist/filter/run-filter-command.js');
  await import('./dist/adapters/key-lookup.js');
  await import('./dist/store/pg-db.js');
  const { generateKey } = await import('openpgp');
  buildProgram();
  buildProgram('encrypt');
  buildProgram('filter');
  const config = loadConfig({ flags: {}, env: { PGPIPE_CONFIG: '/dev/null' } });
  const raw = Buffer.from('From: a@warm-up.invalid\\nTo: b@warm-up.invalid\\nSubject: warm-up\\nContent-Type: text/plain\\n\\nwarm-up\\n');
  for (const options of [
    { type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'b@warm-up.invalid' }], format: 'armored' },
    { type: 'rsa', rsaBits: 3072, userIDs: [{ email: 'b@warm-up.invalid' }], format: 'armored' },
  ]) {
    const { publicKey } = await generateKey(options);
    const keys = (await inspectKeys(publicKey)).map((r) => r.key).filter(Boolean);
    const message = splitMessage(raw);
    detectProtection(message);
    await encryptMessage(message, keys, headerProtectionFrom(config));
    await encryptPayloadArmor(raw, keys, true); // the streamed path of large messages
  }
}
`;

await build({
  stdin: { contents: ENTRY, resolveDir: root, sourcefile: 'pgpipe-bundle-entry.js', loader: 'js' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: bundle,
  // The embedded store (PGlite) loads its WASM files relative to its own package: it stays a lazy import from
  // node_modules, never bundled.
  external: ['@electric-sql/pglite'],
  plugins: [importPatches],
  // openpgp.mjs uses import.meta.url (createRequire); CommonJS output has __filename instead.
  banner: { js: "const __pgpipeImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__pgpipeImportMetaUrl' },
  logLevel: 'error',
});

writeFileSync(loader, `'use strict';
// Generated by scripts/build-bundle.mjs. Loads pgpipe-bundle.cjs through its V8 code cache and exports its main.
// A cache from another V8 (node upgraded) or for other source is rejected by V8, which then just compiles.
// \`node dist/pgpipe-cached.cjs --write-code-cache\` (build time only) runs the warm-up and writes the cache.
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script, constants } = require('node:vm');
const { createRequire, wrap } = require('node:module');
const file = join(__dirname, 'pgpipe-bundle.cjs');
const cacheFile = file + '.v8-cache';
const writing = require.main === module && process.argv[2] === '--write-code-cache';
let cachedData;
if (!writing) {
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // no cache: V8 compiles from source
  }
}
const script = new Script(wrap(readFileSync(file, 'utf8')), {
  filename: file,
  cachedData,
  // The bundle's import() of @electric-sql/pglite must go to Node's loader.
  importModuleDynamically: constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ?? ((specifier) => import(specifier)),
});
const bundle = { exports: {} };
script.runInThisContext()(bundle.exports, createRequire(file), bundle, file, __dirname);
if (writing) {
  bundle.exports.warmUp().then(() => writeFileSync(cacheFile, script.createCachedData()), (error) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  if (process.env.PGPIPE_DEBUG_CODE_CACHE) {
    process.stderr.write('pgpipe: code cache ' + (cachedData ? (script.cachedDataRejected ? 'rejected' : 'used') : 'absent') + '\\n');
  }
  module.exports = { main: bundle.exports.main };
}
`);
execFileSync(process.execPath, [loader, '--write-code-cache'], { stdio: 'inherit' });
console.log(`bundle: ${loader}`);
