// PROTOTYPE (measurement only): the floor of a process-per-message Node design. A warm snapshot holding only the
// encrypt core (run-encrypt: pg, openpgp, message code) with a fixed config: no commander, no zod, no execa, no
// admin. Run: node --snapshot-blob OUTDIR/floor.blob TO DB_URL < message. From the repository root, after tsc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lightCharsets, snapshotPatches } from './build-snapshot-plugin.mjs';

const outDir = resolve(process.argv[2] ?? 'dist-floor');
mkdirSync(outDir, { recursive: true });
const entry = `
import { runEncrypt } from './dist/commands/run-encrypt.js';
import { inspectKeys } from './dist/keys/inspect-keys.js';
import { splitMessage } from './dist/message/split-message.js';
import { detectProtection } from './dist/message/detect-protection.js';
import { encryptMessage } from './dist/commands/encrypt-message.js';
import { generateKey } from 'openpgp';
const hp = { enabled: true, subjectPlaceholder: '[...]' };
async function main([to, url]) {
  const config = { databaseUrl: url, dbTimeoutMs: 10000, recipientDelimiter: '+', protectHeaders: true,
    subjectPlaceholder: '[...]', keepSubject: false };
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const result = await runEncrypt(Buffer.concat(chunks), [to], config);
  process.stdout.write(result.output);
}
async function warmUp() {
  const raw = Buffer.from('From: a@warm-up.invalid\\nSubject: w\\nContent-Type: text/plain\\n\\nwarm-up\\n');
  for (const options of [{ type: 'curve25519', userIDs: [{ email: 'b@warm-up.invalid' }], format: 'armored' },
    { type: 'rsa', rsaBits: 3072, userIDs: [{ email: 'b@warm-up.invalid' }], format: 'armored' }]) {
    const { publicKey } = await generateKey(options);
    const reports = await inspectKeys(publicKey);
    const message = splitMessage(raw);
    detectProtection(message);
    await encryptMessage(message, reports.map((r) => r.key).filter(Boolean), hp);
  }
}
const v8 = require('node:v8');
warmUp().catch((e) => { console.error(e); process.exit(1); });
v8.startupSnapshot.setDeserializeMainFunction(() => main(process.argv.slice(1)));
`;
const bundle = join(outDir, 'floor-entry.cjs');
await build({
  stdin: { contents: entry, resolveDir: process.cwd(), loader: 'js' }, bundle: true, platform: 'node', target: 'node20',
  format: 'cjs', outfile: bundle, external: ['@electric-sql/pglite'], plugins: [snapshotPatches, lightCharsets],
  banner: { js: "var module = { exports: {} }; const __pgpipeImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__pgpipeImportMetaUrl' }, logLevel: 'error',
});
execFileSync(process.execPath, ['--snapshot-blob', join(outDir, 'floor.blob'), '--build-snapshot', bundle], { stdio: ['ignore', 'inherit', 'pipe'] });
console.log(`built ${join(outDir, 'floor.blob')}`);
