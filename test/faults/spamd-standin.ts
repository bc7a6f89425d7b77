// Tiny spamd stand-ins on 127.0.0.1 for the spamc fault tests: one that never answers, ones that answer garbage,
// and a closed port. Loopback only; every socket is destroyed on close().
import { createServer, type Socket } from 'node:net';

export type SpamdMode =
  | 'silent' // accepts, reads, never answers
  | 'garbage' // answers bytes that are not the SPAMD protocol
  | 'error-line' // answers a spamd error line and closes
  | 'short-reply' // promises more Content-length than it sends
  | 'foreign-message'; // a well-formed reply carrying a different message without spamd's headers

const REPLIES: Record<Exclude<SpamdMode, 'silent'>, Buffer> = {
  garbage: Buffer.concat([
    Buffer.from('HTTP/1.1 500 Internal Server Error\r\n\r\n'),
    Buffer.from([0, 255, 1, 254, 10, 13]),
  ]),
  'error-line': Buffer.from('SPAMD/1.0 76 Bad header line: (Content-Length mismatch)\r\n'),
  'short-reply': Buffer.from(
    'SPAMD/1.1 0 EX_OK\r\nContent-length: 99999\r\nSpam: False ; 0.1 / 5.0\r\n\r\nSubject: x\r\n\r\nshort',
  ),
  'foreign-message': (() => {
    const body = Buffer.from('From: nobody@example.org\r\nSubject: replaced\r\n\r\nnot the message you sent\r\n');
    return Buffer.concat([
      Buffer.from(`SPAMD/1.1 0 EX_OK\r\nContent-length: ${body.length}\r\nSpam: False ; 0.1 / 5.0\r\n\r\n`),
      body,
    ]);
  })(),
};

export interface SpamdStandin {
  readonly port: number;
  close(): Promise<void>;
}

export function startSpamdStandin(mode: SpamdMode): Promise<SpamdStandin> {
  const sockets = new Set<Socket>();
  // allowHalfOpen: spamc half-closes after its request; a silent spamd must keep its side open (a real hang).
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (mode === 'silent') {
      socket.resume();
      return;
    }
    // Answer once the request is complete (spamc half-closes after the message).
    socket.resume();
    socket.on('end', () => socket.end(REPLIES[mode]));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** A loopback port nobody listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = await startSpamdStandin('silent');
  await s.close();
  return s.port;
}
