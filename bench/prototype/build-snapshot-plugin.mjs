// PROTOTYPE (bench only): esbuild plugin for build-snapshot.mjs. Patches two import-time side effects that keep the
// Node 20 snapshot builder from working; each patch fails loudly if the dependency's code changes.
import { readFile } from 'node:fs/promises';

const PATCHES = [
  {
    // pg/lib/stream.js probes `typeof Response` at import time to detect Cloudflare Workers; on Node 20 that loads
    // undici and node:http (≈15 ms per start, and the snapshot builder cannot load node:http: "methods.toSorted is
    // not a function"). On Node it is never Cloudflare.
    file: /[\\/]pg[\\/]lib[\\/]stream\.js$/,
    from: "typeof Response === 'function'",
    to: 'false',
  },
  {
    // fflate (inside openpgp.mjs) creates a TextDecoder at import time only to probe {stream:true} support, and the
    // result is unused by OpenPGP.js; a live ICU converter cannot be serialised into a snapshot.
    file: /[\\/]openpgp[\\/]dist[\\/]node[\\/]openpgp\.mjs$/,
    from: "var td = typeof TextDecoder != 'undefined' && /*#__PURE__*/ new TextDecoder();",
    to: 'var td = false;',
  },
];

export const snapshotPatches = {
  name: 'pgpipe-snapshot-patches',
  setup(build) {
    for (const patch of PATCHES) {
      build.onLoad({ filter: patch.file }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!text.includes(patch.from)) throw new Error(`${args.path} changed: update the snapshot patch`);
        return { contents: text.replace(patch.from, patch.to), loader: 'js' };
      });
    }
  },
};

/** Measurement only: execa replaced by a stub (for paths that never start a child process). */
export const stubExeca = {
  name: 'stub-execa',
  setup(build) {
    build.onResolve({ filter: /^execa$/ }, () => ({ path: 'execa-stub', namespace: 'stub' }));
    build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: "export function execa() { throw new Error('execa stubbed out (measurement build)'); }",
      loader: 'js',
    }));
  },
};

/**
 * libmime (Content-Type parsing) loads iconv-lite and encoding-japanese (~0.9 MB of code, ~3 MB of heap) at import
 * time for charset conversions that Node's own TextDecoder (full ICU) already does. Replaces both with shims.
 */
export const lightCharsets = {
  name: 'light-charsets',
  setup(build) {
    build.onResolve({ filter: /^(iconv-lite|encoding-japanese)$/ }, (args) => ({ path: args.path, namespace: 'light' }));
    build.onLoad({ filter: /.*/, namespace: 'light' }, (args) => ({
      loader: 'js',
      contents: args.path === 'iconv-lite'
        ? `module.exports = {
             decode: (buf, charset) => new TextDecoder(charset).decode(buf),
             encodingExists: (charset) => { try { new TextDecoder(charset); return true; } catch { return false; } },
             encode: (str) => Buffer.from(String(str), 'utf8'),
           };`
        // libmime falls back to iconv-lite (here: TextDecoder, which knows ISO-2022-JP/EUC-JP) when this throws.
        : "module.exports = { convert() { throw new Error('not bundled'); } };",
    }));
  },
};

/** Measurement only: the admin commands not registered (what a filter/encrypt-only program build would save). */
export const noAdmin = {
  name: 'no-admin',
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/]admin[\\/]register-admin\.js$/ }, () => ({
      loader: 'js',
      contents: 'export function registerAdmin() {}',
    }));
  },
};
