// A byte-for-byte TCP proxy that follows the SMTP/LMTP dialogue it carries, for faults the real ends can't make on
// demand. In front of pgpipe serve (Postfix → proxy → serve) it can stall a message halfway through DATA (so the
// test kills serve mid-DATA) and records when each message's DATA ended (its end-of-data sequence passed, with its
// Message-ID). Behind serve (serve → proxy → Dovecot's LMTP or the re-injection smtpd) it can hold back what the
// next hop answers after DATA: the next hop has stored or queued the message, serve has not heard so, and the test
// can kill serve in that window. `refuse()` closes the listener (a hop that is down), `accept()` opens it again.
import { chmodSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface DataEnd {
  readonly messageId: string;
  /** Date.now() when the end-of-data line was passed on. */
  readonly at: number;
}

export interface SmtpProxy {
  /** `inet:127.0.0.1:PORT` or `unix:/path`. */
  readonly address: string;
  /** The TCP port (0 on a unix socket). */
  readonly port: number;
  /** From now on, what the server says after a client's end of DATA is held back, not passed on. */
  holdReplies(): void;
  /** From now on, a message body is passed on only halfway; the rest is held back. */
  holdMidData(): void;
  /** Passes on what was held and stops holding. */
  release(): void;
  /** Resolves once a session holds something back (replies after DATA, or the rest of a body). */
  held(): Promise<void>;
  /** Every end of DATA that passed, in order. */
  readonly dataEnds: DataEnd[];
  /** Closes the listener and every session: connections are refused. */
  refuse(): Promise<void>;
  accept(): Promise<void>;
  /** Sessions opened so far. */
  sessions(): number;
  /** With `record`: every byte each session's client sent, one Buffer per session (what went over the wire). */
  clientBytes(): Buffer[];
  close(): Promise<void>;
}

const END = '\r\n.\r\n';

export async function startSmtpProxy(
  target: { path: string } | { host: string; port: number },
  listen: number | { path: string } = 0,
  options: { record?: boolean } = {},
): Promise<SmtpProxy> {
  const recorded: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const releasers = new Set<() => void>();
  const dataEnds: DataEnd[] = [];
  let holdReplies = false;
  let holdMidData = false;
  let opened = 0;
  let heldWaiters: (() => void)[] = [];
  let server: Server | undefined;
  let listenPort = typeof listen === 'number' ? listen : 0;
  const notifyHeld = (): void => {
    for (const waiter of heldWaiters.splice(0)) waiter();
  };

  const session = (client: Socket): void => {
    opened += 1;
    const upstream = connect(target);
    sockets.add(client);
    sockets.add(upstream);
    // Client side: in a body once the server said 354; `body` keeps the start of it (for the Message-ID).
    let inBody = false;
    let body = '';
    let tail = '';
    let repliesHeld = false;
    const heldReplies: Buffer[] = [];
    let requestHeld = false;
    const heldRequest: Buffer[] = [];
    const wire: Buffer[] = [];
    if (options.record === true) recorded.push(wire);
    const release = (): void => {
      repliesHeld = false;
      requestHeld = false;
      for (const chunk of heldReplies.splice(0)) client.write(chunk);
      for (const chunk of heldRequest.splice(0)) upstream.write(chunk);
    };
    client.on('data', (chunk: Buffer) => {
      if (options.record === true) wire.push(chunk);
      if (requestHeld) {
        heldRequest.push(chunk);
        return;
      }
      let pass = chunk;
      if (inBody && holdMidData) {
        // Half of what came, never the end of DATA itself: the server has part of the body and waits for more.
        const text = chunk.toString('latin1');
        const end = text.indexOf(END);
        const cut = Math.max(1, Math.floor((end === -1 ? chunk.length : end) / 2));
        pass = chunk.subarray(0, cut);
        heldRequest.push(chunk.subarray(cut));
        requestHeld = true;
        releasers.add(release);
        notifyHeld();
      }
      upstream.write(pass);
      if (!inBody) return;
      const text = tail + pass.toString('latin1');
      if (body.length < 65_536) body += pass.toString('latin1');
      if (text.includes(END)) {
        inBody = false;
        const messageId = /^Message-ID:\s*(<[^>\r\n]*>)/im.exec(body)?.[1] ?? '';
        dataEnds.push({ messageId, at: Date.now() });
        body = '';
        if (holdReplies) {
          repliesHeld = true;
          releasers.add(release);
        }
      }
      tail = text.slice(-4);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (repliesHeld) {
        heldReplies.push(chunk);
        notifyHeld();
        return;
      }
      // A 354 starts the body (the dialogue pipelines MAIL/RCPT/DATA, then waits for it).
      if (/(^|\n)354[ -]/.test(chunk.toString('latin1'))) {
        inBody = true;
        body = '';
        tail = '\r\n'; // the first body line may be the end-of-data dot (an empty message)
      }
      client.write(chunk);
    });
    const end = (): void => {
      releasers.delete(release);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on('close', end);
      socket.on('error', end);
    }
  };

  const accept = async (): Promise<void> => {
    if (server !== undefined) return;
    const s = createServer(session);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      if (typeof listen === 'number') s.listen(listenPort, '127.0.0.1', () => resolve());
      else {
        rmSync(listen.path, { force: true }); // our own socket file from before refuse()
        // Anyone who may reach the directory may connect (the directory is what guards it, as for serve's own).
        s.listen(listen.path, () => resolve(chmodSync(listen.path, 0o666)));
      }
    });
    const address = s.address();
    if (typeof address === 'object' && address !== null) listenPort = address.port;
    server = s;
  };
  const refuse = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await accept();
  return {
    address: typeof listen === 'number' ? `inet:127.0.0.1:${listenPort}` : `unix:${listen.path}`,
    port: listenPort,
    holdReplies: () => void (holdReplies = true),
    holdMidData: () => void (holdMidData = true),
    release() {
      holdReplies = false;
      holdMidData = false;
      for (const release of releasers) release();
      releasers.clear();
    },
    held: () => new Promise<void>((resolve) => heldWaiters.push(resolve)),
    dataEnds,
    refuse,
    accept,
    sessions: () => opened,
    clientBytes: () => recorded.map((chunks) => Buffer.concat(chunks)),
    async close() {
      heldWaiters = [];
      await refuse();
    },
  };
}
