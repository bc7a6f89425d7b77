// bin/pgpipe's fast path: main from dist/pgpipe-bundle.cjs (one esbuild bundle of dist/, made by `npm run build`),
// compiled through its V8 code cache, but only when the bundle carries this dist/'s build id on its first line.
// Loaded with vm.Script, not import(): import() of a 3 MB CommonJS file costs ~190 ms in Node's CJS export scan.
// A cache from another V8 (Node upgraded) or for other source is rejected by V8, which then just compiles.
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script, constants, type ScriptOptions } from 'node:vm';
import type { main as Main } from '../cli.js';
import { BUILD_ID } from './build-id.js';

export const BUNDLE_FILE = fileURLToPath(new URL('../pgpipe-bundle.cjs', import.meta.url));
const CACHE_FILE = `${BUNDLE_FILE}.v8-cache`;

/** The bundle's first line, naming the build it belongs to. */
export const bundleBanner = (buildId: string): string => `/* pgpipe build ${buildId} */`;

interface Bundle {
  readonly script: Script;
  readonly exports: { readonly main?: typeof Main; readonly warmUp?: () => Promise<void> };
  readonly cacheUsed: boolean | null;
}

/** 'current': the bundle belongs to this dist/; 'stale': another build (or a tsc run since); 'absent'. */
export function bundleState(): 'current' | 'stale' | 'absent' {
  let fd: number;
  try {
    fd = openSync(BUNDLE_FILE, 'r');
  } catch {
    return 'absent';
  }
  const head = Buffer.alloc(200);
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  return belongsHere(head.toString('latin1')) ? 'current' : 'stale';
}

const belongsHere = (source: string): boolean =>
  BUILD_ID !== 'unbundled' && source.startsWith(`${bundleBanner(BUILD_ID)}\n`);

function load(useCache: boolean): Bundle {
  const source = readFileSync(BUNDLE_FILE, 'utf8');
  if (!belongsHere(source)) throw new Error(`the bundle is not from this build (dist/ is ${BUILD_ID})`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = useCache ? readFileSync(CACHE_FILE) : undefined;
  } catch {
    // no cache: V8 compiles from source
  }
  // The bundle's import() of @electric-sql/pglite must go to Node's own loader (Node >= 20.12 has the constant).
  const importModuleDynamically = (constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ??
    ((specifier: string) => import(specifier))) as ScriptOptions['importModuleDynamically'];
  const script = new Script(Module.wrap(source), { filename: BUNDLE_FILE, cachedData, importModuleDynamically });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE_FILE), module, BUNDLE_FILE, dirname(BUNDLE_FILE));
  return { script, exports: module.exports, cacheUsed: cachedData === undefined ? null : !script.cachedDataRejected };
}

/** The bundle's main when it belongs to this build and loads; undefined sends bin/pgpipe to dist/cli.js. */
export function loadBundledMain(): typeof Main | undefined {
  try {
    const bundle = load(true);
    if (process.env.PGPIPE_DEBUG_CODE_CACHE) {
      const state = bundle.cacheUsed === null ? 'absent' : bundle.cacheUsed ? 'used' : 'rejected';
      process.stderr.write(`pgpipe: code cache ${state}\n`);
    }
    return typeof bundle.exports.main === 'function' ? bundle.exports.main : undefined;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    if (process.env.PGPIPE_DEBUG) process.stderr.write(`pgpipe: bundle not used: ${why}\n`);
    return undefined;
  }
}

/** Build time only (scripts/build-bundle.mjs): runs the bundle's warm-up, then writes the V8 code cache. */
export async function writeCodeCache(): Promise<void> {
  const bundle = load(false);
  if (typeof bundle.exports.warmUp !== 'function') throw new Error('the bundle exports no warmUp');
  await bundle.exports.warmUp();
  writeFileSync(CACHE_FILE, bundle.script.createCachedData());
}
