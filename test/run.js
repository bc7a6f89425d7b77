#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's built-in runner (TypeScript through tsx).
// Usage: node test/run.js [path-substring...]   e.g. `npm test -- store` runs only files whose path contains "store".
// PGPIPE_TEST_SKIP=e2e,fuzz skips directories by name (for quick local runs; CI runs everything).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const skip = new Set((process.env.PGPIPE_TEST_SKIP ?? '').split(',').filter(Boolean));
const filters = process.argv.slice(2);

function collect(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' || skip.has(name) ? [] : collect(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = collect(join(root, 'test'))
  .map((file) => relative(root, file))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// CLI tests spawn bin/pgpipe, which runs dist/: build it from the sources under test first...
const build = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);
// ...and the bundle bin/pgpipe prefers (as `npm run build` makes it), so CLI tests run what production runs.
const bundle = spawnSync(process.execPath, [join(root, 'scripts/build-bundle.mjs')], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (bundle.status !== 0) process.exit(bundle.status ?? 1);

// One empty embedded store per run (PGlite's initdb takes seconds); tests copy it (test/helpers/embedded-template.ts).
const scratch = mkdtempSync(join(tmpdir(), 'pgpipe-test-run-'));
const template = join(scratch, 'embedded-template');
const made = spawnSync(process.execPath, [join(root, 'bin/pgpipe'), 'user', 'list', '--data-dir', template], {
  cwd: root,
  env: { ...process.env, PGPIPE_CONFIG: '/dev/null' },
  stdio: ['ignore', 'ignore', 'inherit'],
});

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  {
    cwd: root,
    stdio: 'inherit',
    env: made.status === 0 ? { ...process.env, PGPIPE_TEST_EMBEDDED_TEMPLATE: template } : process.env,
  },
);
rmSync(scratch, { recursive: true, force: true });
process.exit(result.status ?? 1);
