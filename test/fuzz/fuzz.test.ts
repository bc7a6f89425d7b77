// The quick fuzz slice inside `npm test`: a few hundred generated/mutated messages in-process plus a dozen through
// the real CLI, every one judged by the oracle. The full run (10,000+) is `npm run fuzz`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, reproduce, runFuzz } from './fuzz-run.js';
import { CATEGORIES } from './generate.js';

// Fixed by default so CI is reproducible; FUZZ_SEED=random (or a number) explores further.
const seedEnv = process.env.FUZZ_SEED;
const seed = seedEnv === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(seedEnv ?? 20261121);

test(
  `quick fuzz slice (seed ${seed}): every case ends in a correct exit 0 or a clean exit 75`,
  { timeout: 120_000 },
  async () => {
    const inProcessCases = Number(process.env.FUZZ_QUICK_CASES ?? 250);
    const report = await runFuzz({
      seed,
      inProcessCases,
      cliCases: Number(process.env.FUZZ_QUICK_CLI ?? 12),
      deadlineMs: 30_000,
      concurrency: 4,
      log: () => undefined,
    });
    console.log(formatReport(report));
    for (const category of CATEGORIES) assert.ok(report.byCategory[category], `category ${category} was exercised`);
    const failures = report.failures.map(
      (f) =>
        `${f.mode} seed=${f.seed} case=${f.index} [${f.category}: ` +
        `${f.steps.join(' > ')}]: ${f.reason} (${reproduce(f.seed, f.index, inProcessCases)})`,
    );
    assert.deepEqual(failures, []);
  },
);
