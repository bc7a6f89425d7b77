// Spawns the built CLI (bin/pgpipe → dist/) the way a user or Postfix would: stdin in, exit code + output back.
// The one CLI spawner of the tests: `pipe: true` gives Postfix pipe(8)'s surroundings instead of a shell user's.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PGPIPE_BIN = fileURLToPath(new URL('../../bin/pgpipe', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** stdout + stderr in the order they came (latin1), as pipe(8) captures them through one pipe. */
  readonly output: string;
  readonly ms: number;
  /** Killed (SIGKILL) by timeoutMs. */
  readonly timedOut: boolean;
}

export interface CliOptions {
  readonly input?: Buffer | string;
  /**
   * Environment added to a clean one: PATH, HOME and PGPIPE_CONFIG=/dev/null (so no /etc file interferes); with
   * `pipe`, pipe(8)'s: PATH=/usr/bin:/bin and PGPIPE_CONFIG=/dev/null only. `undefined` removes a variable.
   */
  readonly env?: Record<string, string | undefined>;
  /** Run as Postfix pipe(8) does: its minimal environment (see env), in `/`. */
  readonly pipe?: boolean;
  /** Kill (SIGKILL) and report timedOut after this long (default 60 s). */
  readonly timeoutMs?: number;
  /** Called once the child is running (e.g. to send it a signal later). */
  readonly onSpawn?: (pid: number) => void;
  /** Write the input but keep stdin open (a sender that stalls mid-message). */
  readonly holdStdin?: boolean;
  /** Close the stdout pipe at once, as a reader that stops early (`| head`) does; stdout is then empty. */
  readonly closeStdout?: boolean;
  /** Another bin/pgpipe (a copy beside a fake or copied dist/); default this checkout's. */
  readonly bin?: string;
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const env: Record<string, string> =
      options.pipe === true
        ? { PATH: '/usr/bin:/bin', PGPIPE_CONFIG: '/dev/null' }
        : { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', PGPIPE_CONFIG: '/dev/null' };
    for (const [name, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    const child = spawn(process.execPath, [options.bin ?? PGPIPE_BIN, ...args], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.pipe === true ? { cwd: '/' } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const both: Buffer[] = [];
    if (options.closeStdout === true) child.stdout.destroy();
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      both.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk);
      both.push(chunk);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
        output: Buffer.concat(both).toString('latin1'),
        ms: Date.now() - started,
        timedOut,
      });
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    child.stdin.on('error', () => undefined); // the child may exit before reading everything (usage errors, EPIPE)
    if (options.holdStdin === true) child.stdin.write(options.input ?? '');
    else child.stdin.end(options.input ?? '');
  });
}
