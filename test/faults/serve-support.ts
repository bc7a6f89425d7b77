// Shared set-up for the serve fault tests that need no Postfix: a throwaway PostgreSQL (alice keyed, carol not),
// `pgpipe serve` (test/e2e/serve-instance.ts) on a free loopback port in front of a fake next hop (smtp-server, a
// real protocol end, recording every transaction), and a raw client that writes exactly the bytes a test gives it
// (pipelining, bare LF/CR, huge lines) and reads the replies as they come.
import { connect, type Socket } from 'node:net';
import { startFakeLmtp, type FakeLmtp, type FakeLmtpOptions } from '../deliver/fake-lmtp.js';
import { freePort } from '../e2e/free-port.js';
import { startServe, type ServeInstance } from '../e2e/serve-instance.js';
import { startSmtpProxy, type SmtpProxy } from '../e2e/smtp-proxy.js';
import { PGPIPE_BIN } from '../helpers/run-cli.js';
import { startWorld, type FaultWorld } from './support.js';

export interface ServeWorld {
  readonly world: FaultWorld;
  readonly sink: FakeLmtp;
  readonly serve: ServeInstance;
  readonly port: number;
  /** With `wire`: the recording proxy between serve and the sink (what serve sent, byte for byte). */
  readonly wire: SmtpProxy | undefined;
  close(): Promise<void>;
}

/** `conf`: extra pgpipe.conf lines (serve_max_clients, serve_memory_limit, deadline, ...). */
export async function startServeWorld(
  options: { protocol?: 'lmtp' | 'smtp'; conf?: string; sink?: FakeLmtpOptions; wire?: boolean } = {},
): Promise<ServeWorld> {
  const protocol = options.protocol ?? 'smtp';
  const world = await startWorld();
  const sink = await startFakeLmtp({ protocol, listen: 'inet', ...options.sink }).catch(async (error: unknown) => {
    await world.close();
    throw error;
  });
  const port = await freePort();
  let serve: ServeInstance;
  let wire: SmtpProxy | undefined;
  try {
    if (options.wire === true) {
      wire = await startSmtpProxy({ host: '127.0.0.1', port: Number(sink.address.split(':').at(-1)) }, 0, {
        record: true,
      });
    }
    serve = await startServe({
      bin: process.env.PGPIPE_E2E_BIN ?? PGPIPE_BIN,
      protocol,
      listen: `inet:127.0.0.1:${port}`,
      next: wire?.address ?? sink.address,
      conf: `database_url = ${world.pg.url}\nspam_check = no\nlog = stderr\n${options.conf ?? ''}`,
    });
  } catch (error) {
    await wire?.close();
    await sink.close();
    await world.close();
    throw error;
  }
  return {
    world,
    sink,
    serve,
    port,
    wire,
    async close() {
      await serve.stop();
      await wire?.close();
      await sink.close();
      await world.close();
    },
  };
}

export interface RawSession {
  readonly socket: Socket;
  /** Writes bytes as given (latin1 for a string). */
  write(data: Buffer | string): void;
  /** The next complete reply (all its lines, CRLF-joined, without the last CRLF); rejects if the server closes. */
  reply(timeoutMs?: number): Promise<string>;
  /** Every reply line received so far. */
  lines(): string[];
  /** Resolves once the server closed the connection (or `timeoutMs` passed: false). */
  closed(timeoutMs?: number): Promise<boolean>;
  destroy(): void;
}

export function rawSession(port: number): Promise<RawSession> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buffer = '';
    const all: string[] = [];
    const replies: string[] = [];
    let current: string[] = [];
    const waiters: { resolve: (r: string) => void; reject: (e: Error) => void }[] = [];
    let isClosed = false;
    const closeWaiters: (() => void)[] = [];
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        all.push(line);
        current.push(line);
        if (/^\d{3}( |$)/.test(line)) {
          const reply = current.join('\r\n');
          current = [];
          const waiter = waiters.shift();
          if (waiter) waiter.resolve(reply);
          else replies.push(reply);
        }
      }
    });
    const onClose = (): void => {
      isClosed = true;
      for (const waiter of waiters.splice(0)) waiter.reject(new Error(`connection closed; lines: ${all.join(' | ')}`));
      for (const waiter of closeWaiters.splice(0)) waiter();
    };
    socket.on('close', onClose);
    socket.once('error', (error) => {
      if (all.length === 0) reject(error);
    });
    socket.once('connect', () =>
      resolve({
        socket,
        write: (data) => void socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data),
        reply(timeoutMs = 20_000) {
          const queued = replies.shift();
          if (queued !== undefined) return Promise.resolve(queued);
          if (isClosed) return Promise.reject(new Error(`connection closed; lines: ${all.join(' | ')}`));
          return new Promise<string>((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`no reply in ${timeoutMs} ms`)), timeoutMs);
            waiters.push({
              resolve: (r) => {
                clearTimeout(timer);
                res(r);
              },
              reject: (e) => {
                clearTimeout(timer);
                rej(e);
              },
            });
          });
        },
        lines: () => [...all],
        closed(timeoutMs = 20_000) {
          if (isClosed) return Promise.resolve(true);
          return new Promise<boolean>((res) => {
            const timer = setTimeout(() => res(false), timeoutMs);
            closeWaiters.push(() => {
              clearTimeout(timer);
              res(true);
            });
          });
        },
        destroy: () => socket.destroy(),
      }),
    );
  });
}

/** A small message to `to`, CRLF, with a unique marker in its body. */
export const smallMessage = (to: string, marker: string): string =>
  `From: sender@example.org\r\nTo: ${to}\r\nSubject: serve fault ${marker}\r\nMessage-ID: <${marker}@example.org>\r\n` +
  `\r\nbody ${marker}\r\n`;

/** One whole transaction on a fresh session; resolves with every reply, in order (the last one is DATA's). */
export async function transaction(
  port: number,
  to: readonly string[],
  data: string,
  options: { from?: string; size?: number; lmtp?: boolean } = {},
): Promise<string[]> {
  const s = await rawSession(port);
  const out: string[] = [];
  try {
    out.push(await s.reply());
    if (!out[0]?.startsWith('220')) return out;
    s.write(`${options.lmtp === true ? 'LHLO' : 'EHLO'} client.test\r\n`);
    out.push(await s.reply());
    s.write(`MAIL FROM:<${options.from ?? 'sender@example.org'}>${options.size ? ` SIZE=${options.size}` : ''}\r\n`);
    out.push(await s.reply());
    if (!out.at(-1)?.startsWith('250')) return out;
    for (const rcpt of to) {
      s.write(`RCPT TO:<${rcpt}>\r\n`);
      out.push(await s.reply());
    }
    s.write('DATA\r\n');
    out.push(await s.reply());
    if (!out.at(-1)?.startsWith('354')) return out;
    s.write(`${data.replace(/^\./gm, '..')}.\r\n`);
    // LMTP: one reply per recipient that RCPT accepted.
    const rcptOk = out.slice(3, 3 + to.length).filter((r) => r.startsWith('250')).length;
    for (let i = 0; i < (options.lmtp === true ? rcptOk : 1); i++) out.push(await s.reply(120_000));
    s.write('QUIT\r\n');
    return out;
  } finally {
    s.destroy();
  }
}
