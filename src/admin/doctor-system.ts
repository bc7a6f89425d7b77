// The real DoctorDeps: spawns programs with execa, checks files, opens the configured store.
// Kept apart from doctor.ts so the checks stay testable with any deps.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { get } from 'node:http';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import type { Config } from '../config/load-config.js';
import { embeddedDataDir, openDb } from '../store/open-db.js';
import type { DoctorDeps, ExecResult, ServiceProbe } from './doctor.js';

const EXEC_TIMEOUT_MS = 20_000;
/** A healthy service greets and answers in milliseconds; this long means it is stuck or saturated. */
const PROBE_TIMEOUT_MS = 10_000;

export async function createDoctorDeps(config: () => Config, self: readonly string[]): Promise<DoctorDeps> {
  const { execa } = await import('execa');
  return {
    config,
    openDb,
    async exec(file, args, options = {}): Promise<ExecResult> {
      const result = await execa(file, [...args], {
        reject: false,
        timeout: EXEC_TIMEOUT_MS,
        stdin: 'ignore',
        env: options.env ?? {},
        extendEnv: true,
      });
      const started = typeof result.exitCode === 'number';
      return {
        code: started && !result.timedOut ? (result.exitCode ?? null) : null,
        stdout: String(result.stdout ?? ''),
        stderr: String(result.stderr ?? ''),
        error:
          started && !result.timedOut
            ? null
            : result.timedOut
              ? 'timed out'
              : (result.code ?? result.shortMessage ?? 'failed'),
      };
    },
    async isExecutable(path) {
      try {
        await access(path, constants.X_OK);
        return (await stat(path)).isFile();
      } catch {
        return false;
      }
    },
    now: () => new Date(),
    isRoot: process.getuid?.() === 0,
    currentUser: userInfo().username,
    self,
    probeService,
    httpGet,
    describeStore: (c) =>
      c.databaseUrl === undefined
        ? `embedded store in ${embeddedDataDir(c)}`
        : `PostgreSQL ${withoutPassword(c.databaseUrl)}`,
  };
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** `inet:HOST:PORT` or `unix:/path` (serve_listen's forms) as net.connect options. */
function connectOptions(address: string): { path: string } | { host: string; port: number } {
  if (address.startsWith('unix:')) return { path: address.slice('unix:'.length) };
  const match = /^inet:\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (match === null) throw new Error(`not unix:/path or inet:host:port: ${address}`);
  return { host: match[1] ?? '', port: Number(match[2]) };
}

/**
 * One session as Postfix's client opens it: read the greeting, LHLO/EHLO, QUIT; each reply read to its last line
 * (`250 ` after `250-` lines). Nothing is sent before the greeting, so a pipelining check never trips.
 */
async function probeService(address: string, protocol: 'lmtp' | 'smtp'): Promise<ServiceProbe> {
  const started = performance.now();
  const socket = connect(connectOptions(address));
  socket.setTimeout(PROBE_TIMEOUT_MS);
  let buffered = '';
  let waiting: ((reply: string) => void) | null = null;
  let failed: ((error: Error) => void) | null = null;
  const fail = (error: Error): void => failed?.(error);
  socket.on('error', (error: NodeJS.ErrnoException) => fail(new Error(error.code ?? error.message)));
  socket.on('timeout', () => fail(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)));
  socket.on('end', () => fail(new Error('closed the connection')));
  const drain = (): void => {
    // A reply ends with a line "NNN text" (a space, or nothing, after the code).
    const end = /(^|\r?\n)(\d{3})(?: [^\r\n]*)?\r?\n/.exec(buffered);
    if (end === null || waiting === null) return;
    const reply = buffered.slice(0, end.index + end[0].length);
    buffered = buffered.slice(reply.length);
    const resolve = waiting;
    waiting = null;
    resolve(reply);
  };
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    drain();
  });
  const next = (): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      waiting = resolve;
      failed = reject;
      drain();
    });
  const last = (reply: string): string => reply.trimEnd().split(/\r?\n/).at(-1) ?? '';
  try {
    const greeting = last(await next());
    if (!greeting.startsWith('220')) return { greeting, hello: '', ms: Math.round(performance.now() - started) };
    socket.write(`${protocol === 'lmtp' ? 'LHLO' : 'EHLO'} pgpipe-doctor.invalid\r\n`);
    const hello = last(await next());
    socket.write('QUIT\r\n');
    await next(); // 221; its round trip is part of the figure
    return { greeting, hello, ms: Math.round(performance.now() - started) };
  } finally {
    socket.destroy();
  }
}

async function httpGet(address: string, path: string): Promise<{ status: number; body: string }> {
  const target = connectOptions(address);
  if (!('host' in target)) throw new Error(`metrics must be inet:HOST:PORT, not ${address}`);
  return new Promise((resolve, reject) => {
    const request = get({ host: target.host, port: target.port, path, timeout: PROBE_TIMEOUT_MS }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)));
    request.on('error', (error: NodeJS.ErrnoException) => reject(new Error(error.code ?? error.message)));
  });
}
