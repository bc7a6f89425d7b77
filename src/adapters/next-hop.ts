// The next-hop client on nodemailer's SMTP/LMTP client: one connection and one transaction per call, an answer
// per recipient back. LMTP (Dovecot; `pgpipe deliver`, `pgpipe serve --protocol lmtp`) answers each recipient after
// DATA; SMTP (Postfix's re-injection smtpd, FILTER_README's advanced content filter) gives one reply after DATA,
// which then applies to every recipient accepted at RCPT TO. nodemailer is loaded only when a message is handed
// over (it is not on filter's start path). Never throws: anything but an answer for everyone is { kind: 'failed' },
// which defers.
import { isAscii } from 'node:buffer';
import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { SmtpError } from 'nodemailer/lib/smtp-connection/index.js';
import { parseReply } from '../deliver/lmtp-replies.js';
import type { NextHop, NextHopReply, NextHopResult } from '../deliver/ports.js';
import { oneLine } from '../mail-path/outcome.js';
import { xforwardCommands } from './xforward.js';

let clientModule: Promise<typeof import('nodemailer/lib/smtp-connection/index.js')> | undefined;

export type NextHopProtocol = 'lmtp' | 'smtp';
export type NextHopTarget = { readonly path: string } | { readonly host: string; readonly port: number };

export interface NextHopTimeouts {
  /** Until the socket is connected. */
  readonly connectMs: number;
  /** From connected until the server's 220 greeting. */
  readonly greetingMs: number;
  /** Inactivity on the socket at any later point (the longest wait is the reply after the final dot). */
  readonly socketMs: number;
}

/**
 * For a resident service, not nodemailer's 2 min / 30 s / 10 min: a next hop on this machine or the LAN connects
 * in milliseconds, and a slot held by a dead one is a slot lost. 120 s of silence stays below Postfix's own
 * smtp/lmtp_data_done_timeout (600 s) upstream, so we answer before Postfix gives up on us. The caller's
 * AbortSignal (its per-transaction deadline) bounds the whole transaction on top of these.
 */
export const DEFAULT_TIMEOUTS: NextHopTimeouts = { connectMs: 10_000, greetingMs: 30_000, socketMs: 120_000 };

export interface NextHopOptions {
  /** `unix:/path` or `inet:host:port`. */
  readonly address: string;
  readonly protocol: NextHopProtocol;
  readonly timeouts?: Partial<NextHopTimeouts>;
  /** Our EHLO/LHLO name (default: this host's name). */
  readonly name?: string;
  /**
   * Keep a connection open after a transaction and use it for the next one after RSET, as Postfix's own connection
   * cache does (serve; not the pipe modes, whose process ends after one message). Never for a transaction that
   * sends XFORWARD (it describes one client).
   */
  readonly reuse?: boolean;
}

/** `unix:/path` or `inet:host:port` (the forms Postfix's own lmtp(8) takes). */
export function parseNextHopAddress(address: string): NextHopTarget | null {
  if (address.startsWith('unix:/')) return { path: address.slice('unix:'.length) };
  const inet = /^inet:([^\s:]+):(\d{1,5})$/.exec(address);
  if (inet === null) return null;
  const port = Number(inet[2]);
  return port > 0 && port < 65536 ? { host: inet[1] as string, port } : null;
}

/** A short, content-free description of a failed session (nodemailer's message may carry the server's reply). */
function describe(label: string, stage: string, error: SmtpError): string {
  const response = error.response === undefined ? '' : `: ${error.response.split(/\r?\n/, 1)[0] ?? ''}`;
  const what = error.response === undefined ? (error.code ?? error.message) : (error.command ?? error.code ?? 'error');
  return oneLine(`${label} ${stage} ${what}${response}`, 200);
}

/**
 * Per-recipient answers from one finished transaction: nodemailer lists the refused ones (at RCPT TO or in the
 * per-recipient replies after DATA) with the server's reply, and the accepted ones by address only.
 */
export function repliesOf(
  recipients: readonly string[],
  accepted: readonly string[],
  refused: readonly SmtpError[],
  acceptedReply: (recipient: string) => NextHopReply = (recipient) => ({
    recipient,
    code: 250,
    enhanced: null,
    text: 'accepted',
  }),
): NextHopReply[] {
  return recipients.map((recipient) => {
    const error = refused.find((e) => e.recipient === recipient);
    if (error !== undefined) return parseReply(recipient, error.response ?? '');
    if (accepted.includes(recipient)) return acceptedReply(recipient);
    return { recipient, code: 0, enhanced: null, text: 'no answer for this recipient' };
  });
}

/** nodemailer keeps these to itself; they are read here and nowhere else. */
interface ClientInternals {
  /** EHLO/LHLO keywords with their arguments; unset when EHLO was refused and nodemailer fell back to HELO. */
  _ehloLines?: string[];
  /** The transaction's envelope: RCPT TO results, and the per-recipient LMTP refusals after DATA. */
  _envelope?: { accepted?: string[]; rejectedErrors?: SmtpError[] };
  /** The DATA stream while it still has bytes for the socket; false once it has written the final dot. */
  _currentDataStream?: unknown;
}
const internals = (client: SMTPConnection): ClientInternals => client as unknown as ClientInternals;

/** EHLO keyword (upper case) → its arguments. */
function capabilities(lines: readonly string[]): Map<string, string> {
  return new Map(
    lines.map((line) => {
      const [keyword = '', ...args] = line.trim().split(/\s+/);
      return [keyword.toUpperCase(), args.join(' ')];
    }),
  );
}

const ignore = (): void => undefined;

/** A connection kept open between transactions (`reuse`): greeted, EHLO/LHLO done, no XFORWARD sent on it. */
interface IdleConnection {
  readonly client: SMTPConnection;
  readonly socket: Socket;
  readonly offered: ReadonlyMap<string, string>;
  /** Stops the idle timer and the listeners that drop it from the pool when the server closes it. */
  readonly wake: () => void;
}

/** How long an idle connection is kept (Postfix's own connection cache keeps its for 2 s) and how many. */
export const IDLE_MS = 2000;
export const MAX_IDLE = 32;

export function createNextHop(options: NextHopOptions): NextHop {
  const label = options.protocol.toUpperCase();
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const idle: IdleConnection[] = [];

  /** Keeps a connection whose transaction is over for the next one, or QUITs it. */
  const keepOrQuit = (client: SMTPConnection, socket: Socket, offered: ReadonlyMap<string, string>, keep: boolean) => {
    if (!keep || idle.length >= MAX_IDLE || socket.destroyed) {
      client.quit();
      setTimeout(() => socket.destroy(), 5000).unref();
      return;
    }
    const drop = (): void => {
      const at = idle.indexOf(entry);
      if (at >= 0) idle.splice(at, 1);
      wake();
      socket.destroy();
    };
    const timer = setTimeout(() => {
      drop();
      try {
        client.quit();
      } catch {
        // already closed
      }
    }, IDLE_MS);
    timer.unref();
    socket.unref(); // an idle connection never keeps the process alive
    client.removeListener('error', ignore);
    client.on('error', drop);
    client.on('end', drop);
    const wake = (): void => {
      clearTimeout(timer);
      client.removeListener('error', drop);
      client.removeListener('end', drop);
      if (client.listenerCount('error') === 0) client.on('error', ignore);
      socket.ref();
    };
    const entry: IdleConnection = { client, socket, offered, wake };
    idle.push(entry);
  };

  /** RSET on an idle connection: true when it is still good for a new transaction (nothing of it was sent yet). */
  const reset = (conn: IdleConnection): Promise<boolean> =>
    new Promise((resolve) => {
      let answered = false;
      const fail = (): void => {
        if (answered) return;
        answered = true;
        conn.socket.destroy();
        resolve(false);
      };
      const timer = setTimeout(fail, timeouts.greetingMs);
      conn.client.once('error', fail);
      conn.client.once('end', fail);
      conn.client.reset((error) => {
        clearTimeout(timer);
        conn.client.removeListener('error', fail);
        conn.client.removeListener('end', fail);
        if (error) return fail();
        answered = true;
        resolve(true);
      });
    });

  return {
    async deliver(payload, envelope, signal, forward) {
      const target = parseNextHopAddress(options.address);
      if (target === null)
        return { kind: 'failed', reason: `no valid ${label} next-hop address (unix:/path or inet:host:port)` };
      const { default: Client } = await (clientModule ??= import('nodemailer/lib/smtp-connection/index.js'));
      // XFORWARD describes one transaction's client: a transaction that sends it gets a connection of its own.
      const wantsXforward = forward?.xforward !== undefined && Object.keys(forward.xforward).length > 0;
      let reused: IdleConnection | undefined;
      while (options.reuse === true && !wantsXforward && !signal.aborted && (reused = idle.pop()) !== undefined) {
        reused.wake();
        if (await reset(reused)) break;
        reused = undefined; // closed by the server meanwhile: nothing of this message went on it
      }
      return new Promise<NextHopResult>((resolve) => {
        let settled = false;
        let client: SMTPConnection | null = reused?.client ?? null;
        let socket: Socket | null = reused?.socket ?? null;
        let offered: ReadonlyMap<string, string> = reused?.offered ?? new Map();
        let sentXforward = false;
        let connectTimer: NodeJS.Timeout | undefined;
        const onError = (error: SmtpError): void => failed(describe(label, 'session', error));
        const onEnd = (): void => failed(`${label} connection closed before all answers`);
        const done = (result: NextHopResult, polite = false): void => {
          if (settled) return;
          settled = true;
          clearTimeout(connectTimer);
          signal.removeEventListener('abort', onAbort);
          client?.removeListener('error', onError);
          client?.removeListener('end', onEnd);
          // A client's 'error' with no listener is an uncaught exception: after QUIT or a drop, errors mean nothing.
          if (client !== null && client.listenerCount('error') === 0) client.on('error', ignore);
          try {
            // After the answers: QUIT or keep for the next transaction (the next hop has the mail). Otherwise:
            // destroy the socket first, discarding whatever is still queued for it, so that a message cut off
            // mid-DATA is never completed by a final dot flushed on the way out.
            if (polite && client !== null && socket !== null) {
              keepOrQuit(client, socket, offered, options.reuse === true && !sentXforward);
            } else {
              socket?.destroy();
              client?.close();
            }
          } catch {
            // already closed
          }
          resolve(result);
        };
        const failed = (reason: string): void => done({ kind: 'failed', reason });
        const onAbort = (): void => failed(`${label} cancelled`);
        if (signal.aborted) return failed(`${label} cancelled`);
        signal.addEventListener('abort', onAbort, { once: true });

        /** The checks on what the server offered, then XFORWARD if asked for, then the transaction. */
        const begin = (session: SMTPConnection): void => {
          const to = [...envelope.recipients];
          // Without SMTPUTF8 nodemailer would write the address's UTF-8 bytes anyway: a protocol violation the
          // next hop may refuse or mangle. Wait instead, so the administrator can turn SMTPUTF8 on. (LMTP keeps
          // deliver's behaviour: Dovecot 2.3 offers no SMTPUTF8 and answers such a recipient itself.)
          if (options.protocol === 'smtp' && !offered.has('SMTPUTF8')) {
            if ([envelope.sender, ...to].some((address) => !isAscii(Buffer.from(address))))
              return failed(`${label} next hop does not offer SMTPUTF8, needed for a non-ASCII address`);
          }
          // SIZE=n makes nodemailer refuse larger messages before MAIL FROM; the same refusal, with the figures.
          const limit = Number(offered.get('SIZE') ?? '0') || 0;
          if (limit > 0 && payload.length > limit)
            return failed(`${label} next hop's SIZE limit is ${limit} bytes, the message has ${payload.length}`);
          const transaction = (): void => send(session, to);
          xforward = forward?.xforward === undefined ? [] : xforwardCommands(forward.xforward, offered.get('XFORWARD'));
          if (xforward.length === 0) return transaction();
          sentXforward = true;
          return session.login({ method: 'PGPIPE-XFORWARD' }, (loginError) => {
            if (loginError) return failed(describe(label, 'XFORWARD', loginError));
            return settled ? undefined : transaction();
          });
        };
        let xforward: string[] = [];

        if (reused !== undefined && client !== null) {
          client.on('error', onError);
          client.on('end', onEnd);
          return begin(client);
        }

        const where = 'path' in target ? target.path : `${target.host}:${target.port}`;
        socket = 'path' in target ? connect({ path: target.path }) : connect({ host: target.host, port: target.port });
        connectTimer = setTimeout(
          () => failed(`cannot connect to ${label} ${where} (no connection within ${timeouts.connectMs} ms)`),
          timeouts.connectMs,
        );
        const onConnectError = (error: NodeJS.ErrnoException): void =>
          failed(`cannot connect to ${label} ${where} (${error.code ?? 'error'})`);
        socket.once('error', onConnectError);
        socket.once('connect', () => {
          clearTimeout(connectTimer);
          const connected = socket as Socket;
          connected.removeListener('error', onConnectError);
          connected.on('error', () => undefined); // reported through the client's 'error' event
          // Commands, the message and the final dot go out as separate writes: without this, Nagle's algorithm
          // and the peer's delayed ACK can hold the last one back by tens of milliseconds over TCP.
          if (!('path' in target)) connected.setNoDelay(true);
          client = new Client({
            lmtp: options.protocol === 'lmtp',
            connection: connected,
            name: options.name ?? hostname(),
            ignoreTLS: true,
            greetingTimeout: timeouts.greetingMs,
            socketTimeout: timeouts.socketMs,
            logger: false,
            debug: false,
            // nodemailer has no public way to send a command of our own before MAIL FROM except its documented
            // custom authentication hook; XFORWARD goes through it (no AUTH command is ever sent).
            customAuth: { 'PGPIPE-XFORWARD': (context) => sendAll(context, xforward) },
          });
          const session = client;
          session.on('error', onError);
          session.on('end', onEnd);
          session.connect((error) => {
            if (error) return failed(describe(label, 'greeting', error));
            if (settled) return undefined;
            const lines = internals(session)._ehloLines;
            if (lines === undefined) return failed(`${label} next hop refused ${label === 'LMTP' ? 'LHLO' : 'EHLO'}`);
            offered = capabilities(lines);
            return begin(session);
          });
        });

        // A declaration (hoisted): a reused connection begins before this point of the executor is reached.
        function send(session: SMTPConnection, to: string[]): void {
          // SIZE and BODY=8BITMIME go only to a server that offers them (nodemailer checks its EHLO reply); an
          // 8-bit message to one without 8BITMIME goes as it is, never converted (that would break signatures).
          const mail = { from: envelope.sender, to, size: payload.length, use8BitMime: !isAscii(payload) };
          session.send(mail, payload, (sendError, info) => {
            const state = internals(session)._envelope ?? {};
            // A reply to DATA's content that comes while the final dot is still ours (in nodemailer's stream or
            // the socket's buffer) cannot be about the whole message: only a broken or hostile next hop sends one.
            const early = (): boolean =>
              internals(session)._currentDataStream !== false || (socket?.writableLength ?? 0) > 0;
            const afterDot = (result: NextHopResult): void =>
              early() ? failed(`${label} next hop answered before the end of the message`) : done(result, true);
            if (sendError) {
              // Every RCPT TO refused: those are per-recipient answers (no DATA was sent).
              if (sendError.command === 'RCPT TO' && sendError.rejectedErrors !== undefined)
                return done({ kind: 'replied', replies: repliesOf(to, [], sendError.rejectedErrors) }, true);
              // SMTP's one reply after the final dot refused the message: it is the answer for every recipient
              // accepted at RCPT TO (a 5xx bounces with the next hop's own code, a 4xx defers).
              if (options.protocol === 'smtp' && sendError.code === 'EMESSAGE' && sendError.command === 'DATA') {
                const final = sendError.response ?? '';
                const replies = repliesOf(to, state.accepted ?? [], state.rejectedErrors ?? [], (recipient) =>
                  parseReply(recipient, final),
                );
                return afterDot({ kind: 'replied', replies });
              }
              // MAIL FROM or the DATA command refused, or a broken stream: the server never answered per
              // recipient, so nothing here is permanent.
              return failed(describe(label, 'transaction', sendError));
            }
            if (options.protocol === 'smtp') {
              // A 2xx after the final dot: every recipient accepted at RCPT TO has it, with the server's own text
              // (Postfix's "queued as" id).
              const replies = repliesOf(to, info.accepted, info.rejectedErrors ?? [], (recipient) =>
                parseReply(recipient, info.response),
              );
              return afterDot({ kind: 'replied', replies });
            }
            // LMTP: nodemailer 9 hands back the refusals known at DATA time; the per-recipient ones after DATA are
            // added to its envelope (the accepted list shrinks in place). A refusal without its text reads as "no
            // answer", which defers: never a bounce or a success we cannot see.
            const late = state.rejectedErrors ?? [];
            const refused = [
              ...(info.rejectedErrors ?? []),
              ...late.filter((e) => !(info.rejectedErrors ?? []).includes(e)),
            ];
            const accepted = info.accepted.filter((r) => !info.rejected.includes(r));
            return afterDot({ kind: 'replied', replies: repliesOf(to, accepted, refused) });
          });
        }
      });
    },
  };
}

/** Sends each XFORWARD line and waits for its reply. A refusal only costs the next hop's log the original client. */
async function sendAll(
  context: import('nodemailer/lib/smtp-connection/index.js').CustomAuthContext,
  lines: readonly string[],
): Promise<void> {
  for (const line of lines) {
    const reply = await context.sendCommand(line);
    if (reply.status < 200 || reply.status >= 300) break;
  }
  context.resolve();
}
