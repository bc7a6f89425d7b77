// PROTOTYPE (bench only, not the build): a V8 startup snapshot of pgpipe with the encrypt and filter paths already
// loaded and initialised, so a start deserialises a heap instead of reading, compiling and running ~3 MB of JS.
// Usage (from the repository root, after npm run build): node bench/prototype/build-snapshot.mjs OUTDIR   → OUTDIR/pgpipe.blob; run as
//   node --snapshot-blob OUTDIR/pgpipe.blob <pgpipe args...>
// The blob is specific to the node binary that built it (rebuild on every Node upgrade). It holds code and
// module state only: it is built before any message exists, so it can never contain message text.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lightCharsets, noAdmin, snapshotPatches, stubExeca } from './build-snapshot-plugin.mjs';
import { WARM_UP } from './warm-up.mjs';

const outDir = resolve(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'dist-snapshot');
// --warm: also run the start-up and encryption code once at build time (with a throwaway key and a synthetic
// message), so the snapshot holds compiled functions and zod's generated parser instead of source to compile.
// Measurement switches (see build-snapshot-plugin.mjs): --stub-execa (encrypt only), --light-charsets, --no-admin.
const warm = process.argv.includes('--warm');
const root = process.cwd(); // run from the repository root (or a copy of it)
mkdirSync(outDir, { recursive: true });
const entry = `
import { main } from './dist/cli.js';
// The lazily imported command modules, initialised at snapshot time (esbuild shares the module instance, so the
// later dynamic import() finds them ready).
import './dist/commands/run-encrypt.js';
import './dist/commands/encrypt-message.js';
import './dist/filter/run-filter-command.js';
import './dist/adapters/key-lookup.js';
import './dist/store/pg-db.js';
${warm ? WARM_UP : ''}
const v8 = require('node:v8');
if (v8.startupSnapshot.isBuildingSnapshot()) {
  ${warm ? 'warmUp().catch((error) => { console.error(error); process.exit(1); });' : ''}
  v8.startupSnapshot.setDeserializeMainFunction(() => main(process.argv.slice(1)));
} else {
  main(process.argv.slice(2));
}
`;
const script = join(outDir, 'snapshot-entry.cjs');
await build({
  plugins: [
    snapshotPatches,
    ...(process.argv.includes('--stub-execa') ? [stubExeca] : []),
    ...(process.argv.includes('--light-charsets') ? [lightCharsets] : []),
    ...(process.argv.includes('--no-admin') ? [noAdmin] : []),
  ],
  stdin: { contents: entry, resolveDir: root, sourcefile: 'snapshot-entry.js', loader: 'js' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: script,
  external: ['@electric-sql/pglite'],
  banner: { js: "const __pgpipeImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__pgpipeImportMetaUrl' },
  logLevel: 'error',
});
execFileSync(process.execPath, ['--snapshot-blob', join(outDir, 'pgpipe.blob'), '--build-snapshot', script], { stdio: 'inherit' });
console.log(`built ${join(outDir, 'pgpipe.blob')}`);
