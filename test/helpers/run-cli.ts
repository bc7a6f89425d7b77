// Spawns the built CLI (bin/pgpipe → dist/) the way a user or Postfix would: stdin in, exit code + output back.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PGPIPE_BIN = fileURLToPath(new URL('../../bin/pgpipe', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export interface CliOptions {
  readonly input?: Buffer | string;
  /** Environment added to a clean one (PATH, HOME, and PGPIPE_CONFIG=/dev/null so no /etc file interferes). */
  readonly env?: Record<string, string | undefined>;
  readonly timeoutMs?: number;
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', PGPIPE_CONFIG: '/dev/null' };
    for (const [name, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    const child = spawn(process.execPath, [PGPIPE_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading everything (usage errors)
    child.stdin.end(options.input ?? '');
  });
}
