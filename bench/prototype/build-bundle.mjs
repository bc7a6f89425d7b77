// PROTOTYPE (bench only, not the build): bundles dist/cli.js into one file so a pgpipe start reads and compiles
// one script instead of ~300 modules. Usage (from the repository root, after npm run build):
//   node bench/prototype/build-bundle.mjs OUTDIR [esm|cjs] [--patch] [--stub-execa] [--light-charsets] [--no-admin] [--zod-jitless]
// --patch: the import-time patches of build-snapshot-plugin.mjs (pg's Cloudflare probe, fflate's TextDecoder).
// --stub-execa: replace execa by a stub that throws, to measure what loading execa costs paths that never run a
//   child (encrypt); NOT usable for the filter.
import { build } from 'esbuild';
import { lightCharsets, noAdmin, snapshotPatches, stubExeca } from './build-snapshot-plugin.mjs';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const [outDir = 'dist-bundle', format = 'cjs'] = args;
const plugins = [
  ...(process.argv.includes('--patch') ? [snapshotPatches] : []),
  ...(process.argv.includes('--stub-execa') ? [stubExeca] : []),
  ...(process.argv.includes('--light-charsets') ? [lightCharsets] : []),
  ...(process.argv.includes('--no-admin') ? [noAdmin] : []),
];
mkdirSync(outDir, { recursive: true });
const ext = format === 'esm' ? 'mjs' : 'cjs';
await build({
  // --zod-jitless: zod 4 compiles a parser with new Function on the first parse; for one parse per process
  // the interpreter path is cheaper.
  ...(process.argv.includes('--zod-jitless')
    ? { stdin: { contents: "import { z } from 'zod';\nz.config({ jitless: true });\nexport * from './dist/cli.js';\n", resolveDir: process.cwd(), loader: 'js' } }
    : { entryPoints: ['dist/cli.js'] }),
  plugins,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format,
  outfile: join(outDir, `cli.${ext}`),
  // The embedded store (PGlite, WASM) is only for installs without PostgreSQL; leave it a lazy external import.
  external: ['@electric-sql/pglite'],
  // ESM output: CJS dependencies (pg) need a real require. CJS output: openpgp.mjs uses import.meta.url.
  banner: {
    js: format === 'esm'
      ? "import { createRequire as __pgpipeCreateRequire } from 'node:module'; const require = __pgpipeCreateRequire(import.meta.url);"
      : "const __pgpipeImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
  },
  define: format === 'esm' ? {} : { 'import.meta.url': '__pgpipeImportMetaUrl' },
  logLevel: 'error',
  metafile: true,
});
writeFileSync(join(outDir, `pgpipe.${ext}`), format === 'esm'
  ? "import { main } from './cli.mjs';\nmain(process.argv.slice(2));\n"
  : "require('./cli.cjs').main(process.argv.slice(2));\n");
console.log(`built ${join(outDir, `pgpipe.${ext}`)}`);
