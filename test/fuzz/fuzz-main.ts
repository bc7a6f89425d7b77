// `npm run fuzz`: the full fuzz run (10,000 in-process cases + 200 through the real CLI by default).
// Flags: --full | --cases N (in-process) | --cli N | --seed S | --case I (reproduce one) | --deadline MS | --json FILE
import { writeFileSync } from 'node:fs';
import { formatReport, runFuzz } from './fuzz-run.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}
const num = (name: string, fallback: number): number => {
  const value = flag(name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} needs a non-negative integer`);
  return n;
};

const full = process.argv.includes('--full');
const seed = num('--seed', Number(process.env.FUZZ_SEED ?? 0) || Math.floor(Math.random() * 2 ** 31));
const only = flag('--case') === undefined ? undefined : num('--case', 0);
const inProcessCases = num('--cases', full ? 10_000 : 1_000);
const report = await runFuzz({
  seed,
  inProcessCases, // with --case: an index below this runs in-process, at or above it through the CLI
  cliCases: num('--cli', full ? 200 : 20),
  ...(only !== undefined ? { only } : {}),
  deadlineMs: num('--deadline', 30_000),
  concurrency: num('--concurrency', 4),
  log: (line) => console.log(line),
});
console.log(formatReport(report));
const json = flag('--json');
if (json !== undefined) writeFileSync(json, JSON.stringify(report, null, 2));
process.exitCode = report.failures.length === 0 ? 0 : 1;
