// PROTOTYPE helper: runs shell-free commands alternately on one input file and prints median wall, median CPU
// (user+sys, µs resolution via rusage.py) and peak RSS. Usage: node bench/prototype/compare.mjs INPUT RUNS 'label=cmd arg ...' ...
// Arguments are split on spaces; use env vars (e.g. $URL) via the environment: words starting with $ are expanded.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { median } from '../measure.js';

const RUSAGE = new URL('./rusage.py', import.meta.url).pathname;
function runPrecise({ argv, env, input, output, rssFile }) {
  const stdin = openSync(input, 'r');
  const stdout = openSync(output, 'w');
  const result = spawnSync('python3', [RUSAGE, ...argv], { stdio: [stdin, stdout, 'pipe'], env: { ...env, RUSAGE_OUT: rssFile } });
  closeSync(stdin);
  closeSync(stdout);
  const [ms, cpuMs, rssKb, status] = readFileSync(rssFile, 'utf8').trim().split(' ').map(Number);
  return { ms, cpuMs, rssKb, status: result.status === 0 ? status : result.status, stderr: result.stderr.toString() };
}

const [input, runs, ...specs] = process.argv.slice(2);
const env = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: tmpdir(), TZ: 'UTC', ...Object.fromEntries(
  Object.entries(process.env).filter(([k]) => k.startsWith('BENCH_') || k === 'GPGIT_KEYDIR')) };
const commands = specs.map((spec) => {
  const [label, cmd] = spec.split(/=(.*)/s);
  return { label, argv: cmd.split(' ').filter(Boolean).map((w) => (w.startsWith('$') ? process.env[w.slice(1)] : w)), samples: [] };
});
for (let round = -1; round < Number(runs); round += 1) {
  for (let k = 0; k < commands.length; k += 1) {
    const c = commands[(Math.max(round, 0) + k) % commands.length];
    const r = runPrecise({ argv: c.argv, env, input, output: join(tmpdir(), 'compare-out'), rssFile: join(tmpdir(), 'compare-rss') });
    if (r.status !== 0) throw new Error(`${c.label}: exit ${r.status} ${r.stderr.slice(0, 300)}`);
    if (round >= 0) c.samples.push(r);
  }
}
for (const c of commands) {
  const wall = median(c.samples.map((s) => s.ms));
  const cpu = median(c.samples.map((s) => s.cpuMs));
  const rss = Math.max(...c.samples.map((s) => s.rssKb));
  console.log(`${c.label.padEnd(28)} wall ${wall.toFixed(0).padStart(6)} ms   cpu ${cpu.toFixed(0).padStart(6)} ms   rss ${(rss / 1024).toFixed(0).padStart(5)} MB`);
}
