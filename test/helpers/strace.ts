// The no-file-written proofs trace a whole pgpipe run (children included) for every call that can create, write,
// rename or remove a file; each test then judges the trace itself.
import { spawnSync } from 'node:child_process';

export const HAS_STRACE = spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;

export const TRACED = [
  'openat',
  'open',
  'creat',
  'mkdir',
  'mkdirat',
  'rename',
  'renameat',
  'renameat2',
  'link',
  'linkat',
  'symlink',
  'symlinkat',
  'unlink',
  'unlinkat',
  'truncate',
].join(',');

/** strace's argv for `command`, following forks, quiet, the TRACED calls written to `out`. */
export function straceArgv(out: string, ...command: string[]): string[] {
  return ['-f', '-qq', '-e', `trace=${TRACED}`, '-o', out, ...command];
}
