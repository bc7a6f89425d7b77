// A byte-for-byte TCP proxy between pgpipe serve and its real next hop (Dovecot's LMTP socket, the re-injection
// smtpd), for the faults the next hop can't make on demand: `holdReplies()` stalls everything the next hop says
// after a client finished DATA (its 250s are held, the message is already stored or queued there), so the test can
// kill serve in the middle of forwarding; `refuse()` closes the listener (a next hop that is down), `accept()`
// opens it again on the same port.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface NextHopProxy {
  /** `inet:127.0.0.1:PORT`, serve's --next. */
  readonly address: string;
  /** From now on, replies that follow a client's end of DATA (`CRLF.CRLF`) are held back, not sent. */
  holdReplies(): void;
  /** Sends what was held and stops holding. */
  release(): void;
  /** Resolves once a session is holding replies (its message reached the next hop; its 250 did not reach serve). */
  held(): Promise<void>;
  /** Closes the listener and every session: connections are refused. */
  refuse(): Promise<void>;
  accept(): Promise<void>;
  /** Sessions opened so far. */
  sessions(): number;
  close(): Promise<void>;
}

export async function startNextHopProxy(
  target: { path: string } | { host: string; port: number },
  port?: number,
): Promise<NextHopProxy> {
  const sockets = new Set<Socket>();
  const holding = new Set<{ release(): void }>();
  let hold = false;
  let opened = 0;
  let heldWaiters: (() => void)[] = [];
  let server: Server | undefined;
  let listenPort = port ?? 0;

  const session = (client: Socket): void => {
    opened += 1;
    const upstream = connect(target);
    sockets.add(client);
    sockets.add(upstream);
    let tail = '';
    let afterDot = false;
    const pending: Buffer[] = [];
    const entry = {
      release() {
        for (const chunk of pending.splice(0)) client.write(chunk);
        afterDot = false;
      },
    };
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      const text = tail + chunk.toString('latin1');
      if (hold && text.includes('\r\n.\r\n')) {
        afterDot = true;
        holding.add(entry);
      }
      tail = text.slice(-4);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (afterDot && hold) {
        pending.push(chunk);
        for (const waiter of heldWaiters.splice(0)) waiter();
      } else client.write(chunk);
    });
    const end = (): void => {
      holding.delete(entry);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  };

  const accept = async (): Promise<void> => {
    if (server !== undefined) return;
    const s = createServer(session);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(listenPort, '127.0.0.1', () => resolve());
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
    address: `inet:127.0.0.1:${listenPort}`,
    holdReplies: () => void (hold = true),
    release() {
      hold = false;
      for (const entry of holding) entry.release();
      holding.clear();
    },
    held: () => new Promise<void>((resolve) => heldWaiters.push(resolve)),
    refuse,
    accept,
    sessions: () => opened,
    async close() {
      heldWaiters = [];
      await refuse();
    },
  };
}
