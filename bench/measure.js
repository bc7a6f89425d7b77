// Runs one command the way the bench measures it: stdin from a file, stdout to a file, wall time around the
// whole process, peak RSS from GNU time (%M = ru_maxrss: the largest process of the command's tree, in KB) and
// CPU time (user + system of the whole tree).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';

export const GNU_TIME = '/usr/bin/time';

/**
 * @param {{ argv: string[], env: object, input: string, output: string, rssFile: string }} run
 * @returns {{ ms: number, cpuMs: number, rssKb: number, status: number | null, stderr: string }}
 */
export function runTimed({ argv, env, input, output, rssFile }) {
  const stdin = openSync(input, 'r');
  const stdout = openSync(output, 'w');
  try {
    const start = process.hrtime.bigint();
    const result = spawnSync(GNU_TIME, ['-f', '%M %U %S', '-o', rssFile, '--', ...argv], {
      stdio: [stdin, stdout, 'pipe'],
      env,
      maxBuffer: 1 << 20,
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    // On failure GNU time writes "Command exited with non-zero status N" first; the figure is the last line.
    const [rss, user, system] = readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    rmSync(rssFile, { force: true });
    return {
      ms,
      cpuMs: (user + system) * 1000,
      rssKb: rss,
      status: result.status,
      stderr: result.stderr?.toString() ?? String(result.error ?? ''),
    };
  } finally {
    closeSync(stdin);
    closeSync(stdout);
  }
}

/** Starts a command asynchronously (throughput runs); resolves with its exit status and stderr. */
export function runAsync({ argv, env, input }) {
  return new Promise((resolve, reject) => {
    const stdin = openSync(input, 'r');
    const child = spawn(argv[0], argv.slice(1), { stdio: [stdin, 'ignore', 'pipe'], env });
    closeSync(stdin);
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
