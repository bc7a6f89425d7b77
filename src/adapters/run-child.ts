// Runs one child process with the whole input on a pipe and every output captured (never inherited stdio),
// and keeps a registry of live children so the exit boundary can SIGKILL them before the process ends.
// The verdict comes from the child's exit status, never from its pipes closing: a child may exit while something it
// started (a background delivery, a stray `sleep &`) still holds its stdout/stderr, and waiting for those pipes
// would run into our deadline and defer a message the child already queued (a duplicate on the retry).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { ChildResult } from '../filter/ports.js';

const live = new Set<ChildProcess>();

/** How long after the child's exit its pipes may take to reach EOF before we stop reading them. */
export const OUTPUT_GRACE_MS = 500;

/**
 * SIGKILLs every child still running. The exit boundary calls this before process.exit: once we are gone their
 * stdin pipe closes, and a sendmail that sees EOF instead of dying would queue a truncated message.
 */
export function killLiveChildren(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

export interface RunChildOptions {
  readonly signal: AbortSignal;
  /** Own time limit (ms); hitting it is reported as failure 'timeout', not as our deadline. */
  readonly timeoutMs?: number;
  /** Override OUTPUT_GRACE_MS (tests). */
  readonly outputGraceMs?: number;
}

const firstLine = (bytes: Uint8Array): string =>
  Buffer.from(bytes)
    .toString('latin1')
    .split(/\r?\n/, 1)[0]
    ?.replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 200) ?? '';

/**
 * Watches `stream` from now; the returned waiter resolves true once it has ended (EOF), or false when it has not
 * within `ms` (a pipe a descendant of the child still holds). The timer's verdict waits one setImmediate, so an EOF
 * already waiting in the poll phase (a loop stalled by load) still counts.
 */
function endedWithin(stream: NodeJS.ReadableStream & { readableEnded?: boolean }) {
  let done = stream.readableEnded === true;
  const ended = new Promise<void>((resolve) => {
    stream.once('end', () => {
      done = true;
      resolve();
    });
    stream.once('close', () => {
      done = true;
      resolve();
    });
    stream.once('error', () => resolve());
  });
  return (ms: number) =>
    new Promise<boolean>((resolve) => {
      if (done) return resolve(true);
      const timer = setTimeout(() => setImmediate(() => resolve(done)), ms);
      void ended.then(() => {
        clearTimeout(timer);
        resolve(done);
      });
    });
}

const notRun = (failure: 'spawn' | 'cancelled'): ChildResult => ({
  exitCode: null,
  signal: null,
  stdout: Buffer.alloc(0),
  stderrLine: '',
  failure,
});

export function runChild(
  file: string,
  args: readonly string[],
  input: Buffer,
  options: RunChildOptions,
): Promise<ChildResult> {
  return new Promise<ChildResult>((resolve) => {
    if (options.signal.aborted) {
      resolve(notRun('cancelled'));
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(file, [...args], { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    } catch {
      resolve(notRun('spawn'));
      return;
    }
    const { stdin, stdout, stderr } = child as ChildProcess & {
      stdin: NodeJS.WritableStream & { destroy(): void };
      stdout: NodeJS.ReadableStream & { destroy(): void };
      stderr: NodeJS.ReadableStream & { destroy(): void };
    };
    live.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (chunk: Buffer) => out.push(chunk));
    stderr.on('data', (chunk: Buffer) => err.push(chunk));
    stdout.on('error', () => undefined);
    stderr.on('error', () => undefined);
    const stdoutEnded = endedWithin(stdout);
    const stderrEnded = endedWithin(stderr);

    // We write stdin ourselves to see a failed write: a child that exits 0 after the pipe broke has not taken the
    // message (see ChildResult.failure for what this cannot see). end() comes only after the data.
    let wroteAll = false;
    stdin.on('error', () => undefined); // EPIPE or a failed spawn: reported below, never thrown
    stdin.once('finish', () => {
      wroteAll = true;
    });

    let stopped: 'cancelled' | 'timeout' | null = null;
    // SIGKILL, never SIGTERM-then-wait: the child must die before it could read an EOF we did not intend.
    const kill = (why: 'cancelled' | 'timeout') => {
      if (stopped === null) stopped = why;
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    };
    const onAbort = () => kill('cancelled');
    options.signal.addEventListener('abort', onAbort, { once: true });
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => kill('timeout'), options.timeoutMs);

    let settled = false;
    const finish = (result: ChildResult) => {
      if (settled) return;
      settled = true;
      live.delete(child);
      options.signal.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
      // Whatever still holds the pipes is not ours to wait for: stop reading (and writing) them.
      stdout.destroy();
      stderr.destroy();
      stdin.destroy();
      resolve(result);
    };

    child.once('error', () => {
      // No process (ENOENT, EACCES): 'exit' never comes. After a spawn, 'error' is a failed kill: 'exit' decides.
      if (child.pid === undefined) finish(notRun('spawn'));
    });
    child.once('exit', (code, signal) => {
      // The exit status is the verdict. The pipes get a short grace to deliver what is already in them; a pipe
      // still open after it is held by a descendant, and its output is reported as unfinished (outputEnded).
      const grace = options.outputGraceMs ?? OUTPUT_GRACE_MS;
      void Promise.all([stdoutEnded(grace), stderrEnded(grace)]).then(([outEnded]) => {
        let failure: ChildResult['failure'] = stopped;
        // EPIPE or a stdin never drained: it exited before reading everything. Only matters when it claims
        // success; a non-zero status (a sendmail that refuses at once, before reading) already says what happened.
        if (failure === null && !wroteAll && code === 0) failure = 'io';
        finish({
          exitCode: code,
          signal: signal ?? null,
          stdout: Buffer.concat(out),
          stderrLine: firstLine(Buffer.concat(err)),
          failure,
          outputEnded: outEnded,
        });
      });
    });
    stdin.end(input);
  });
}
