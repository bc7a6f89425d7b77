// A real-protocol LMTP or SMTP server (smtp-server) on a unix socket or loopback TCP, for the faults Dovecot and
// Postfix can't produce on demand: per-recipient 4xx/5xx at RCPT TO or after DATA, a refused greeting or MAIL FROM,
// SMTP's one refusal after DATA, a server that is slow, stops reading mid-DATA or drops the connection.
// Replies carry their enhanced code in the text, as Dovecot and Postfix write them ("550 5.1.1 <rcpt> ...").
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { SMTPServer } from 'smtp-server';

export interface Transaction {
  /** MAIL FROM address ('' for the null sender) and its parameters (BODY, SIZE, SMTPUTF8). */
  readonly from: string;
  readonly mailParams: Record<string, unknown>;
  /** Recipients accepted at RCPT TO. */
  readonly to: string[];
  /** The message as stored: dot-unstuffed DATA, CRLF as sent. */
  readonly data: Buffer;
  /** XFORWARD attributes the client sent in this session (smtp-server decodes the xtext). */
  readonly xForward: Record<string, unknown>;
}

/** [code, text] to refuse, or null to accept. */
export type Answer = readonly [number, string] | null;

export interface FakeLmtpOptions {
  /** 'lmtp' (default, LHLO and an answer per recipient after DATA) or 'smtp' (EHLO and one reply after DATA). */
  readonly protocol?: 'lmtp' | 'smtp';
  /** Listen on a unix socket (default) or on 127.0.0.1 with a free port. */
  readonly listen?: 'unix' | 'inet';
  /** Refuse the connection: this code and text instead of the 220 greeting. */
  readonly greeting?: Answer;
  readonly mailFrom?: (address: string) => Answer;
  readonly rcpt?: (address: string) => Answer;
  /** LMTP: per-recipient answer after DATA. */
  readonly data?: (address: string) => Answer;
  /** SMTP: the one reply after DATA (default 250 2.0.0 Ok: queued as FAKE<n>). */
  readonly final?: Answer;
  /** Wait this long before answering DATA. */
  readonly dataDelayMs?: number;
  /** Close the connection once DATA is received, before any answer. */
  readonly dropAfterData?: boolean;
  /** Close the connection as soon as the first bytes of DATA arrive. */
  readonly dropMidData?: boolean;
  /** Stop reading after the first bytes of DATA for this long (the client's socket fills up), then read on. */
  readonly stallDataMs?: number;
  readonly smtputf8?: boolean;
  /** Offer 8BITMIME (default true). */
  readonly eightBitMime?: boolean;
  /** The SIZE limit to announce; 0 announces no SIZE at all. */
  readonly size?: number;
  /** SMTP: refuse EHLO (502), so that only HELO works. */
  readonly refuseEhlo?: boolean;
  /** Offer XFORWARD (NAME ADDR PORT PROTO HELO IDENT SOURCE) to every client. */
  readonly xforward?: boolean;
}

export interface FakeLmtp {
  /** `unix:/path` or `inet:127.0.0.1:port`, as --lmtp and --next take it. */
  readonly address: string;
  readonly transactions: Transaction[];
  /** DATA streams that ended without the final dot (the connection went away mid-message). */
  readonly incomplete: () => number;
  /** Connections accepted so far. */
  readonly connections: () => number;
  /** Closes every open connection now, as a server's idle timeout would. */
  dropConnections(): void;
  close(): Promise<void>;
}

const refusal = ([code, text]: readonly [number, string]): Error =>
  Object.assign(new Error(text), { responseCode: code });

export async function startFakeLmtp(options: FakeLmtpOptions = {}): Promise<FakeLmtp> {
  const dir = mkdtempSync(join(tmpdir(), 'pgpipe-lmtp-'));
  const path = join(dir, 'lmtp');
  const transactions: Transaction[] = [];
  let incomplete = 0;
  const lmtp = options.protocol !== 'smtp';
  const server = new SMTPServer({
    lmtp,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS', ...(options.refuseEhlo === true ? ['EHLO'] : [])],
    hideENHANCEDSTATUSCODES: true, // our texts carry Dovecot/Postfix-style codes themselves
    hideSMTPUTF8: options.smtputf8 !== true,
    hide8BITMIME: options.eightBitMime === false,
    logger: false,
    size: options.size ?? 100_000_000, // advertised like Dovecot's lmtp; we never refuse by it
    ...(options.xforward === true ? { useXForward: true } : {}),
    onConnect(_session, callback) {
      callback(options.greeting === undefined || options.greeting === null ? null : refusal(options.greeting));
    },
    onMailFrom(address, _session, callback) {
      const answer = options.mailFrom?.(address.address) ?? null;
      callback(answer === null ? null : refusal(answer));
    },
    onRcptTo(address, _session, callback) {
      const answer = options.rcpt?.(address.address) ?? null;
      callback(answer === null ? null : refusal(answer));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let ended = false;
      stream.on('data', (chunk: Buffer) => {
        if (chunks.length === 0 && options.dropMidData === true) destroyAll();
        if (chunks.length === 0 && options.stallDataMs !== undefined) {
          stream.pause();
          setTimeout(() => stream.resume(), options.stallDataMs);
        }
        chunks.push(chunk);
      });
      stream.on('error', () => undefined);
      stream.on('close', () => {
        if (!ended) incomplete += 1;
      });
      stream.on('end', () => {
        ended = true;
        const to = session.envelope.rcptTo.map((r) => r.address);
        // smtp-server leaves the address empty (or false) for MAIL FROM:<>.
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address || '';
        const mailParams = session.envelope.mailFrom === false ? {} : { ...session.envelope.mailFrom.args };
        // ADDR:DEFAULT is smtp-server's own note of the real peer, not something the client sent.
        const xForward = Object.fromEntries([...(session.xForward ?? [])].filter(([k]) => k !== 'ADDR:DEFAULT'));
        transactions.push({ from, mailParams, to, data: Buffer.concat(chunks), xForward });
        if (options.dropAfterData === true) {
          destroyAll();
          return;
        }
        const answer = (): void => {
          if (!lmtp) {
            const final = options.final ?? null;
            callback(final === null ? null : refusal(final), `2.0.0 Ok: queued as FAKE${transactions.length}`);
            return;
          }
          callback(
            null,
            to.map((rcpt) => {
              const refused = options.data?.(rcpt) ?? null;
              return refused === null ? `2.0.0 <${rcpt}> Saved` : refusal(refused);
            }),
          );
        };
        if (options.dataDelayMs === undefined) answer();
        else setTimeout(answer, options.dataDelayMs);
      });
    },
  });
  const sockets = new Set<Socket>();
  const destroyAll = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  const net = (server as unknown as { server: Server }).server;
  let connections = 0;
  net.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const inet = options.listen === 'inet';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (inet) server.listen(0, '127.0.0.1', () => resolve());
    else server.listen(path, () => resolve());
  });
  server.on('error', () => undefined);
  return {
    address: inet ? `inet:127.0.0.1:${(net.address() as AddressInfo).port}` : `unix:${path}`,
    transactions,
    incomplete: () => incomplete,
    connections: () => connections,
    dropConnections: () => destroyAll(),
    async close() {
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** startFakeLmtp for one test file: every server it starts is closed once the file's tests are done. */
export function fakeLmtpPerFile(): (options?: FakeLmtpOptions) => Promise<FakeLmtp> {
  const servers: FakeLmtp[] = [];
  after(async () => Promise.all(servers.map((s) => s.close())));
  return async (options = {}) => {
    const started = await startFakeLmtp(options);
    servers.push(started);
    return started;
  };
}
