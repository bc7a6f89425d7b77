// PROPOSAL for scripts/build-fast-start.mjs (bench prototype; the lead owns the build). Run after tsc:
//   node scripts/build-fast-start.mjs            (from the repository root)
// Writes, from dist/:
//   dist/pgpipe-bundle.cjs (+ .v8-cache)  one esbuild bundle and its V8 code cache (made after a warm-up)
//   dist/pgpipe-cached.cjs                runs the bundle through the code cache (no wrapper needed; a cache from
//                                         another V8 is rejected by V8 and the bundle is compiled instead)
//   dist/pgpipe.blob (+ .stamp)           V8 startup snapshot of the same bundle, warm, with the node identity
//                                         it was built by; bin/pgpipe uses it only when that identity matches
// Nothing built here can hold message text: it is made before any message exists, from a throwaway key and a
// synthetic message. --no-snapshot skips the blob (e.g. where the snapshot builder fails).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = process.cwd();
const dist = resolve(root, 'dist');
const withSnapshot = !process.argv.includes('--no-snapshot');

// Import-time side effects that cost every start and keep the Node 20 snapshot builder from working. Each patch
// fails the build loudly if the dependency's code changed (then re-check whether it is still needed).
const PATCHES = [
  {
    // pg/lib/stream.js probes `typeof Response` at import to detect Cloudflare Workers; on Node 20 that loads
    // undici + node:http (~8-15 ms per start; the snapshot builder cannot load node:http at all).
    file: /[\\/]pg[\\/]lib[\\/]stream\.js$/,
    from: "typeof Response === 'function'",
    to: 'false',
  },
  {
    // fflate (inside openpgp.mjs) creates a TextDecoder at import only to probe {stream:true}; OpenPGP.js never uses
    // it, and a live ICU converter cannot be serialised into a snapshot ("global handle not serialized").
    file: /[\\/]openpgp[\\/]dist[\\/]node[\\/]openpgp\.mjs$/,
    from: "var td = typeof TextDecoder != 'undefined' && /*#__PURE__*/ new TextDecoder();",
    to: 'var td = false;',
  },
];

const importPatches = {
  name: 'pgpipe-import-patches',
  setup(b) {
    for (const patch of PATCHES) {
      b.onLoad({ filter: patch.file }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!text.includes(patch.from)) throw new Error(`${args.path} changed: re-check the fast-start patch`);
        return { contents: text.replace(patch.from, patch.to), loader: 'js' };
      });
    }
  },
};

// libmime loads iconv-lite + encoding-japanese (~0.9 MB code, ~3 MB heap) for charset conversions Node's
// TextDecoder (full ICU) already does; libmime falls back to iconv-lite when encoding-japanese throws.
const lightCharsets = {
  name: 'pgpipe-light-charsets',
  setup(b) {
    b.onResolve({ filter: /^(iconv-lite|encoding-japanese)$/ }, (args) => ({ path: args.path, namespace: 'light' }));
    b.onLoad({ filter: /.*/, namespace: 'light' }, (args) => ({
      loader: 'js',
      contents: args.path === 'iconv-lite'
        ? `module.exports = {
             decode: (buf, charset) => new TextDecoder(charset).decode(buf),
             encodingExists: (charset) => { try { new TextDecoder(charset); return true; } catch { return false; } },
             encode: (str) => Buffer.from(String(str), 'utf8'),
           };`
        : "module.exports = { convert() { throw new Error('not bundled'); } };",
    }));
  },
};

// The entry: the CLI, its lazily imported command modules loaded up front (esbuild shares module instances, so the
// later import() finds them ready), and a build-time warm-up so compiled code (and zod's generated parser) is kept.
const ENTRY = `
import { main, buildProgram } from './dist/cli.js';
import './dist/commands/run-encrypt.js';
import './dist/filter/run-filter-command.js';
import './dist/adapters/key-lookup.js';
import './dist/store/pg-db.js';
import { loadConfig } from './dist/config/load-config.js';
import { splitMessage } from './dist/message/split-message.js';
import { detectProtection } from './dist/message/detect-protection.js';
import { inspectKeys } from './dist/keys/inspect-keys.js';
import { encryptMessage, headerProtectionFrom } from './dist/commands/encrypt-message.js';
import { generateKey } from 'openpgp';

export { main };

// encrypt=false for the snapshot: running Web streams (streamed OpenPGP.js encryption) inside the Node 20 snapshot
// builder aborts it ("Assertion failed: (contexts_.size()) == (1)"); at run time they work.
export async function warmUp({ encrypt = true } = {}) {
  // The filter always starts sendmail: have execa initialised even if src imports it lazily (recommendation 5.1).
  await import('execa');
  buildProgram();
  const config = loadConfig({ flags: {}, env: { PGPIPE_CONFIG: '/dev/null' } });
  const raw = Buffer.from('From: a@warm-up.invalid\\nTo: b@warm-up.invalid\\nSubject: warm-up\\nContent-Type: text/plain\\n\\nwarm-up\\n');
  for (const options of [
    { type: 'curve25519', userIDs: [{ email: 'b@warm-up.invalid' }], format: 'armored' },
    { type: 'rsa', rsaBits: 3072, userIDs: [{ email: 'b@warm-up.invalid' }], format: 'armored' },
  ]) {
    const { publicKey } = await generateKey(options);
    const reports = await inspectKeys(publicKey);
    const message = splitMessage(raw);
    detectProtection(message);
    if (encrypt) await encryptMessage(message, reports.map((r) => r.key).filter(Boolean), headerProtectionFrom(config));
  }
}

const v8 = require('node:v8');
if (v8.startupSnapshot?.isBuildingSnapshot()) {
  warmUp({ encrypt: false }).catch((error) => {
    console.error(error);
    process.exit(1);
  });
  // With a snapshot, process.argv is [node, ...args]: no script name.
  v8.startupSnapshot.setDeserializeMainFunction(() => main(process.argv.slice(1)));
}
`;

const bundle = join(dist, 'pgpipe-bundle.cjs');
await build({
  stdin: { contents: ENTRY, resolveDir: root, sourcefile: 'pgpipe-bundle-entry.js', loader: 'js' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: bundle,
  // The embedded store (PGlite, WASM) stays a lazy import from node_modules.
  external: ['@electric-sql/pglite'],
  plugins: [importPatches, lightCharsets],
  // openpgp.mjs uses import.meta.url (createRequire); CJS output has __filename instead.
  banner: { js: "const __pgpipeImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__pgpipeImportMetaUrl' },
  logLevel: 'error',
});

// Code-cache runner: also the fallback bin/pgpipe uses when the snapshot does not fit the node binary.
const runner = join(dist, 'pgpipe-cached.cjs');
writeFileSync(runner, `'use strict';
// Runs pgpipe-bundle.cjs through its V8 code cache (made at build time by --write-code-cache after a warm-up).
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script, constants } = require('node:vm');
const { createRequire, wrap } = require('node:module');
const file = join(__dirname, 'pgpipe-bundle.cjs');
const cacheFile = file + '.v8-cache';
const writing = process.argv[2] === '--write-code-cache';
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
  importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
const bundle = { exports: {} };
script.runInThisContext()(bundle.exports, createRequire(file), bundle, file, __dirname);
if (writing) {
  bundle.exports.warmUp().then(() => writeFileSync(cacheFile, script.createCachedData()));
} else {
  bundle.exports.main(process.argv.slice(2));
}
`);
execFileSync(process.execPath, [runner, '--write-code-cache'], { stdio: 'inherit' });

const blob = join(dist, 'pgpipe.blob');
rmSync(blob, { force: true });
rmSync(`${blob}.stamp`, { force: true });
if (withSnapshot) {
  // Node warns that child_process/tty/module are "not yet fully verified" in snapshots; pgpipe's use was tested
  // (encrypt, filter with sendmail/spamc children, fresh randomness per run). Keep the warnings out of build logs.
  // The snapshot builder runs its script without a `module` object: give the bundle one, in a throwaway copy.
  const entry = join(dist, 'pgpipe-snapshot-entry.cjs');
  writeFileSync(entry, `var module = { exports: {} };\n${readFileSync(bundle, 'utf8')}`);
  try {
    execFileSync(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', entry], { stdio: ['ignore', 'inherit', 'pipe'] });
  } finally {
    rmSync(entry, { force: true });
  }
  // Identity of the node binary that made the blob; bin/pgpipe compares it before use (`stat -L -c %d:%i:%s:%Y`).
  const node = statSync(process.execPath);
  writeFileSync(`${blob}.stamp`, `${node.dev}:${node.ino}:${node.size}:${Math.floor(node.mtimeMs / 1000)}\n`);
}
console.log(`fast start: ${runner}${withSnapshot ? ` and ${blob}` : ''}`);
