// Binds serve's listener: a unix socket (a stale one from a killed run is removed first; mode 0660, so only the
// socket's group, Postfix's, can connect besides us) or an inet host:port. Same address forms as --next.
import { chmodSync, lstatSync, rmSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { parseLmtpAddress } from '../adapters/lmtp.js';
import { permanent } from '../errors.js';

export interface Listening {
  /** What was bound, for the start line, as --listen takes it (inet with the real port). */
  readonly where: string;
}

export async function listenOn(
  server: { listen: Server['listen']; server?: Server },
  address: string,
): Promise<Listening> {
  const target = parseLmtpAddress(address);
  if (target === null) throw permanent('config.invalid', `serve_listen: expected unix:/path or inet:host:port`);
  const net = (server as { server: Server }).server;
  if ('path' in target) await removeStaleSocket(target.path, address);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void =>
      reject(permanent('config.invalid', `cannot listen on ${address} (${error.code ?? error.message})`));
    net.once('error', onError);
    const done = (): void => {
      net.removeListener('error', onError);
      resolve();
    };
    if ('path' in target) server.listen(target.path, done);
    else server.listen(target.port, target.host, done);
  });
  if ('path' in target) {
    chmodSync(target.path, 0o660);
    return { where: `unix:${target.path}` };
  }
  const bound = net.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : target.port;
  return { where: `inet:${target.host}:${port}` };
}

/**
 * Only a socket nobody answers on is removed: one that accepts a connection belongs to a running service (a second
 * serve must not steal it), and a regular file at that path is somebody's (listen then fails on it).
 */
async function removeStaleSocket(path: string, address: string): Promise<void> {
  try {
    if (!lstatSync(path).isSocket()) return;
  } catch {
    return; // nothing there
  }
  const answered = await new Promise<boolean>((resolve) => {
    const probe = connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (answered) throw permanent('config.invalid', `cannot listen on ${address}: another process is serving there`);
  rmSync(path, { force: true });
}
