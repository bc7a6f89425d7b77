// `pgpipe serve` as a child of the test: its own pgpipe.conf (PGPIPE_CONFIG), optionally as a system user (the
// dedicated user of a systemd unit, which PostgreSQL's peer map and Dovecot's lmtp-pgpipe socket expect), ready once
// its stderr says `pgpipe serve: listening on ...`. The test can SIGKILL it (a crash), SIGTERM it (a stop) and start
// it again with the same arguments. Everything it writes to stderr (the start line, one log line per transaction
// with log = stderr) is kept for the test to read. If the test process dies first, the child dies with it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServeOptions {
  /** bin/pgpipe or an installed one (installedPgpipe() in pgpipe-install.ts honours PGPIPE_E2E_BIN). */
  readonly bin: string;
  readonly protocol: 'lmtp' | 'smtp';
  /** `unix:/path` or `inet:127.0.0.1:PORT`. */
  readonly listen: string;
  readonly next: string;
  /** pgpipe.conf contents. */
  readonly conf: string;
  /** Further command-line arguments (e.g. `--max-clients 50`). */
  readonly args?: readonly string[];
  /** Run as this system user (uid/gid from `id`); default: the test's own user. */
  readonly user?: string;
  /** Added to the child's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for the listening line (default 30 s). */
  readonly startTimeoutMs?: number;
}

export interface ServeExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ServeInstance {
  /** The running process id (changes on restart). */
  pid(): number;
  /** The listening line, e.g. `pgpipe serve: listening on inet:127.0.0.1:4711 (lmtp), next hop unix:/...`. */
  readonly listening: () => string;
  /** Everything every run wrote to stderr, in order. */
  stderr(): string;
  /** Only what the current run wrote. */
  currentStderr(): string;
  /** The per-transaction log lines (stderr lines that are not the listening line), all runs. */
  logLines(): string[];
  /** Resident set size now and its peak (VmRSS, VmHWM from /proc), in bytes. */
  memory(): { rss: number; peak: number };
  running(): boolean;
  /** SIGKILL: a crash. Resolves when the process is gone. */
  kill9(): Promise<ServeExit>;
  /** SIGTERM: the graceful stop. Resolves with the exit once it is gone (bounded by `timeoutMs`, then SIGKILL). */
  terminate(timeoutMs?: number): Promise<ServeExit>;
  sighup(): void;
  /** Starts it again with the same options (after kill9/terminate). */
  restart(): Promise<void>;
  /** Stops it (SIGTERM, then SIGKILL) if running and removes the config dir. */
  stop(): Promise<void>;
  readonly configFile: string;
}

async function idOf(user: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])]);
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

const gone = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

export async function startServe(options: ServeOptions): Promise<ServeInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'pgpipe-serve-'));
  chmodSync(dir, 0o755); // the serve user reads its config below it
  const configFile = join(dir, 'pgpipe.conf');
  writeFileSync(configFile, options.conf, { mode: 0o644 });
  const ids = options.user === undefined ? undefined : await idOf(options.user);
  let all = '';
  let current = '';
  let listening = '';
  let child: ChildProcess | undefined;
  let exited: Promise<ServeExit> = Promise.resolve({ code: null, signal: null });
  const killOnExit = (): void => {
    if (child !== undefined && !gone(child)) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const start = async (): Promise<void> => {
    current = '';
    listening = '';
    const args = [
      options.bin,
      'serve',
      '--protocol',
      options.protocol,
      '--listen',
      options.listen,
      '--next',
      options.next,
      ...(options.args ?? []),
    ];
    // bin/pgpipe is a node script: spawn node itself, so the pid is serve's own (no wrapper to outlive a SIGKILL).
    const proc = spawn(process.execPath, args, {
      env: {
        PATH: '/usr/bin:/bin:/usr/sbin:/sbin',
        HOME: '/nonexistent',
        LANG: 'C.UTF-8',
        PGPIPE_CONFIG: configFile,
        ...options.env,
      },
      cwd: '/',
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(ids === undefined ? {} : { uid: ids.uid, gid: ids.gid }),
    });
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`pgpipe serve did not say it listens:\n${current}`)),
        options.startTimeoutMs ?? 30_000,
      );
      proc.stderr?.setEncoding('utf8');
      proc.stderr?.on('data', (chunk: string) => {
        all += chunk;
        current += chunk;
        const line = /^pgpipe serve: listening on .*$/m.exec(current);
        if (line !== null && listening === '') {
          listening = line[0];
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`pgpipe serve exited (${code ?? signal}) before listening:\n${current}`));
      });
    });
    try {
      await ready;
    } catch (error) {
      if (!gone(proc)) proc.kill('SIGKILL');
      throw error;
    }
  };

  const signal = async (sig: NodeJS.Signals, timeoutMs: number): Promise<ServeExit> => {
    const proc = child;
    if (proc === undefined || gone(proc)) return exited;
    proc.kill(sig);
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };

  await start();
  const status = (field: string): number => {
    const text = readFileSync(`/proc/${child?.pid}/status`, 'utf8');
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? 0) * 1024;
  };
  return {
    pid: () => child?.pid ?? 0,
    listening: () => listening,
    stderr: () => all,
    currentStderr: () => current,
    logLines: () => all.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('pgpipe serve: listening on ')),
    memory: () => ({ rss: status('VmRSS'), peak: status('VmHWM') }),
    running: () => child !== undefined && !gone(child),
    kill9: () => signal('SIGKILL', 10_000),
    terminate: (timeoutMs = 60_000) => signal('SIGTERM', timeoutMs),
    sighup: () => void child?.kill('SIGHUP'),
    restart: start,
    async stop() {
      process.removeListener('exit', killOnExit);
      await signal('SIGTERM', 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
    configFile,
  };
}
