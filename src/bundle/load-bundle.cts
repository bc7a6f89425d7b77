// bin/pgpipe's fast path: main from dist/pgpipe-bundle.cjs (one esbuild bundle of dist/, made by `npm run build`),
// compiled through its V8 code cache, but only when the bundle's first line names this dist/'s build id (BUILD_ID
// below, which scripts/build-bundle.mjs stamps into the emitted dist/bundle/load-bundle.cjs). A later tsc run emits
// 'unbundled' again, so a bundle older than the compiled code never runs. CommonJS, like the bundle it loads: an
// ES module here would cost the start ~1-2 ms of extra module loading. The bundle is run through vm.Script, not
// import(): import() of a 3 MB CommonJS file costs ~190 ms in Node's CJS export scan. A cache from another V8 (Node
// upgraded) or for other source is rejected by V8, which then just compiles.
import type { main as Main } from '../cli.js' with { 'resolution-mode': 'import' };

// require(), not `import x = require()`: the TypeScript config allows only syntax that type-stripping can erase.
const fs: typeof import('node:fs') = require('node:fs');
const nodeModule: typeof import('node:module') = require('node:module');
const path: typeof import('node:path') = require('node:path');
const vm: typeof import('node:vm') = require('node:vm');

/** Stamped at build time; 'unbundled' (as tsc emits it) matches no bundle. */
const BUILD_ID: string = 'unbundled';

const BUNDLE_FILE = path.join(__dirname, '..', 'pgpipe-bundle.cjs');
const CACHE_FILE = `${BUNDLE_FILE}.v8-cache`;

/** The bundle's first line, naming the build it belongs to. */
const bundleBanner = (buildId: string): string => `/* pgpipe build ${buildId} */`;

const belongsHere = (source: string): boolean =>
  BUILD_ID !== 'unbundled' && source.startsWith(`${bundleBanner(BUILD_ID)}\n`);

interface Bundle {
  readonly script: import('node:vm').Script;
  readonly exports: { readonly main?: typeof Main; readonly warmUp?: () => Promise<void> };
  readonly cacheUsed: boolean | null;
}

/** 'current': the bundle belongs to this dist/; 'stale': another build (or a tsc run since); 'absent'. */
function bundleState(): 'current' | 'stale' | 'absent' {
  let fd: number;
  try {
    fd = fs.openSync(BUNDLE_FILE, 'r');
  } catch {
    return 'absent';
  }
  const head = Buffer.alloc(200);
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  return belongsHere(head.toString('latin1')) ? 'current' : 'stale';
}

function load(useCache: boolean): Bundle {
  const source = fs.readFileSync(BUNDLE_FILE, 'utf8');
  if (!belongsHere(source)) throw new Error(`the bundle is not from this build (dist/ is ${BUILD_ID})`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = useCache ? fs.readFileSync(CACHE_FILE) : undefined;
  } catch {
    // no cache: V8 compiles from source
  }
  // The bundle's import() of @electric-sql/pglite must go to Node's own loader (Node >= 20.12 has the constant).
  const importModuleDynamically = (vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ??
    ((specifier: string) => import(specifier))) as import('node:vm').ScriptOptions['importModuleDynamically'];
  const script = new vm.Script(nodeModule.wrap(source), { filename: BUNDLE_FILE, cachedData, importModuleDynamically });
  const bundleModule = { exports: {} };
  const bundleRequire = nodeModule.createRequire(BUNDLE_FILE);
  script.runInThisContext()(bundleModule.exports, bundleRequire, bundleModule, BUNDLE_FILE, path.dirname(BUNDLE_FILE));
  const cacheUsed = cachedData === undefined ? null : !script.cachedDataRejected;
  return { script, exports: bundleModule.exports, cacheUsed };
}

/** The bundle's main when it belongs to this build and loads; undefined sends bin/pgpipe to dist/cli.js. */
function loadBundledMain(): typeof Main | undefined {
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
async function writeCodeCache(): Promise<void> {
  const bundle = load(false);
  if (typeof bundle.exports.warmUp !== 'function') throw new Error('the bundle exports no warmUp');
  await bundle.exports.warmUp();
  fs.writeFileSync(CACHE_FILE, bundle.script.createCachedData());
}

module.exports = { BUILD_ID, bundleBanner, bundleState, loadBundledMain, writeCodeCache };
