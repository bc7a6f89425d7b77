// `pgpipe serve` as a child process for tests: started with the given flags (config from /dev/null, so only the
// flags and PGPIPE_* environment count), ready once it prints its listening line; stopped with any signal.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGPIPE_BIN } from './run-cli.js';

export interface ServeProcess {
  /** `unix:/path` it listens on. */
  readonly address: string;
  readonly child: ChildProcess;
  /** Everything it wrote to stderr so far (the log lines). */
  stderr(): string;
  /** Sends `signal` and waits for the exit; resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServe(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'pgpipe-serve-'));
  const address = `unix:${join(dir, 'serve.sock')}`;
  const child = spawn(process.execPath, [PGPIPE_BIN, 'serve', '--listen', address, ...args], {
    env: { ...process.env, PGPIPE_CONFIG: '/dev/null', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const signalled = new Set<string>();
  const kill = child.kill.bind(child);
  child.kill = (signal?: NodeJS.Signals | number) => {
    if (typeof signal === 'string') signalled.add(signal);
    return kill(signal);
  };
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stderr}`)), 20_000);
    const check = (): void => {
      if (!stderr.includes('pgpipe serve: listening on')) return;
      clearTimeout(timer);
      child.stderr?.removeListener('data', check);
      resolve();
    };
    child.stderr?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code} before listening:\n${stderr}`));
    });
  });
  return {
    address,
    child,
    stderr: () => stderr,
    async stop(signal = 'SIGTERM') {
      // Once: a second SIGTERM would cut serve's grace short.
      if (child.exitCode === null && child.signalCode === null && !signalled.has(signal)) child.kill(signal);
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
