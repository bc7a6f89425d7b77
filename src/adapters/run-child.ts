// Runs one child process with the whole input on a pipe and every output captured (never inherited stdio),
// and keeps a registry of live children so the exit boundary can SIGKILL them before the process ends.
import type { ChildResult } from '../filter/ports.js';

// execa costs ~95 ms CPU to import (~300 modules); the exit boundary imports this file for killLiveChildren on every
// filter start, and `pgpipe encrypt` never starts a child, so it is loaded only when a child really is started.
let execaModule: Promise<typeof import('execa')> | undefined;

const live = new Set<{ kill: (signal: NodeJS.Signals) => boolean }>();

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
}

const firstLine = (bytes: Uint8Array): string =>
  Buffer.from(bytes).toString('latin1').split(/\r?\n/, 1)[0]?.replace(/[^\x20-\x7e]/g, '?').slice(0, 200) ?? '';

export async function runChild(file: string, args: readonly string[], input: Buffer, options: RunChildOptions): Promise<ChildResult> {
  const { execa } = await (execaModule ??= import('execa'));
  const subprocess = execa(file, args, {
    stdin: 'pipe',
    encoding: 'buffer',
    reject: false,
    stdout: 'pipe',
    stderr: 'pipe',
    cancelSignal: options.signal,
    // SIGKILL, never SIGTERM-then-wait: the child must die before it could read an EOF we did not intend.
    killSignal: 'SIGKILL',
    forceKillAfterDelay: false,
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    stripFinalNewline: false,
    windowsHide: true,
  });
  live.add(subprocess);
  // We write stdin ourselves (not execa's `input`) to see a failed write: execa ignores EPIPE, and a child that
  // exits 0 after the pipe broke has not taken the message (see ChildResult.failure for what this cannot see).
  // end() comes only after the data.
  const stdin = subprocess.stdin;
  stdin.on('error', () => undefined); // EPIPE or a failed spawn: reported through `complete`, never thrown
  const wroteAll = new Promise<boolean>((resolve) => {
    stdin.once('finish', () => resolve(true));
    stdin.once('error', () => resolve(false));
    stdin.once('close', () => resolve(false));
  });
  stdin.end(input);
  const result = await subprocess;
  live.delete(subprocess);
  const complete = await wroteAll;
  const stdout = Buffer.from(result.stdout ?? new Uint8Array());
  const stderrLine = firstLine(result.stderr ?? new Uint8Array());
  let failure: ChildResult['failure'] = null;
  if (result.isCanceled) failure = 'cancelled';
  else if (result.timedOut) failure = 'timeout';
  else if (result.exitCode === undefined && result.signal === undefined) failure = 'spawn';
  // EPIPE: it exited before reading everything. Only matters when it claims success; a non-zero status (a sendmail
  // that refuses at once, before reading) already says what happened.
  else if (!complete && result.exitCode === 0) failure = 'io';
  return { exitCode: result.exitCode ?? null, signal: result.signal ?? null, stdout, stderrLine, failure };
}
