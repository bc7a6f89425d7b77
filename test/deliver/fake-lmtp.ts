// A real-protocol LMTP server (smtp-server in lmtp mode) on a unix socket, for the faults Dovecot can't produce on
// demand: per-recipient 4xx/5xx at RCPT TO or after DATA, a server that is slow or drops the connection after DATA.
// Replies carry their enhanced code in the text, as Dovecot writes them ("550 5.1.1 <rcpt> User doesn't exist").
// With `protocol: 'smtp'` and `inet`, it is the next hop of `pgpipe serve --protocol smtp` (a re-injection smtpd's
// stand-in, XFORWARD recorded) or a content filter's stand-in behind Postfix.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface Transaction {
  /** MAIL FROM address ('' for the null sender) and its parameters (BODY, SIZE, SMTPUTF8). */
  readonly from: string;
  readonly mailParams: Record<string, unknown>;
  /** Recipients accepted at RCPT TO. */
  readonly to: string[];
  /** The message as stored: dot-unstuffed DATA, CRLF as sent. */
  readonly data: Buffer;
  /** XFORWARD attributes the client sent (protocol 'smtp'), e.g. ADDR, NAME, HELO. */
  readonly xforward: Record<string, string>;
}

/** [code, text] to refuse, or null to accept. */
export type Answer = readonly [number, string] | null;

export interface FakeLmtpOptions {
  readonly rcpt?: (address: string) => Answer;
  /** Per-recipient answer after DATA. */
  readonly data?: (address: string) => Answer;
  /** Wait this long before answering DATA. */
  readonly dataDelayMs?: number;
  /** Close the connection once DATA is received, before any answer. */
  readonly dropAfterData?: boolean;
  readonly smtputf8?: boolean;
  /** 'lmtp' (default) or 'smtp' (one reply after DATA: the first recipient's `data` answer, else 250). */
  readonly protocol?: 'lmtp' | 'smtp';
  /** Listen on 127.0.0.1 (this port, 0: any free one) instead of a unix socket. */
  readonly inet?: number;
}

export interface FakeLmtp {
  /** `unix:/path`, as --lmtp takes it (`inet:127.0.0.1:PORT` with `inet`). */
  readonly address: string;
  readonly transactions: Transaction[];
  close(): Promise<void>;
}

const refusal = ([code, text]: readonly [number, string]): Error =>
  Object.assign(new Error(text), { responseCode: code });

export async function startFakeLmtp(options: FakeLmtpOptions = {}): Promise<FakeLmtp> {
  const dir = mkdtempSync(join(tmpdir(), 'pgpipe-lmtp-'));
  const path = join(dir, 'lmtp');
  const transactions: Transaction[] = [];
  const lmtp = options.protocol !== 'smtp';
  const server = new SMTPServer({
    lmtp,
    useXForward: !lmtp,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideENHANCEDSTATUSCODES: true, // our texts carry Dovecot-style codes themselves
    hideSMTPUTF8: options.smtputf8 !== true,
    logger: false,
    size: 100_000_000, // advertised like Dovecot's lmtp; we never refuse by it
    onRcptTo(address, _session, callback) {
      const answer = options.rcpt?.(address.address) ?? null;
      callback(answer === null ? null : refusal(answer));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        // smtp-server leaves the address empty (or false) for MAIL FROM:<>.
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address || '';
        const mailParams = session.envelope.mailFrom === false ? {} : { ...session.envelope.mailFrom.args };
        const xforward = Object.fromEntries([...(session.xForward ?? new Map())].map(([k, v]) => [k, String(v)]));
        transactions.push({ from, mailParams, to, data: Buffer.concat(chunks), xforward });
        if (options.dropAfterData === true) {
          destroyAll();
          return;
        }
        const refusedFirst = options.data?.(to[0] ?? '') ?? null;
        const answer = (): void =>
          !lmtp
            ? callback(refusedFirst === null ? null : refusal(refusedFirst), 'Ok: queued')
            : callback(
                null,
                to.map((rcpt) => {
                  const refused = options.data?.(rcpt) ?? null;
                  return refused === null ? `2.0.0 <${rcpt}> Saved` : refusal(refused);
                }),
              );
        if (options.dataDelayMs === undefined) answer();
        else setTimeout(answer, options.dataDelayMs);
      });
    },
  });
  const sockets = new Set<import('node:net').Socket>();
  const destroyAll = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  (server as unknown as { server: import('node:net').Server }).server.on(
    'connection',
    (socket: import('node:net').Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    },
  );
  let address = `unix:${path}`;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (options.inet === undefined) server.listen(path, () => resolve());
    else
      server.listen(options.inet, '127.0.0.1', () => {
        const bound = (server as unknown as { server: import('node:net').Server }).server.address();
        address = `inet:127.0.0.1:${typeof bound === 'object' && bound !== null ? bound.port : options.inet}`;
        resolve();
      });
  });
  server.on('error', () => undefined);
  return {
    address,
    transactions,
    async close() {
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
