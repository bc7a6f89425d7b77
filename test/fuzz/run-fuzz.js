#!/usr/bin/env node
// `npm run fuzz` entry: runs test/fuzz/fuzz-main.ts through tsx (package.json keeps its plain `node` script line).
// Arguments pass through, e.g. `npm run fuzz -- --seed 123 --case 456`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./fuzz-main.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const result = spawnSync(process.execPath, ['--import', 'tsx', main, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
