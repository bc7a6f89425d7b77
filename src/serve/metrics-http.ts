// The metrics endpoint: GET /metrics on a loopback address only, in Prometheus text format 0.0.4. It holds no
// state of its own and must never take serve down: client errors, slow clients and a failing render are answered
// or dropped here. Refuses any address that is not loopback (the setting checks too; this is the last line).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv4, isIPv6, type AddressInfo } from 'node:net';
import { permanent } from '../errors.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** The address actually bound (127.x.x.x or ::1). */
  readonly host: string;
  /** Stops listening and ends open (keep-alive) connections. */
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  /** A server error after listening (there is nothing to do but report it). */
  readonly onError?: (error: Error) => void;
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** How often Node checks the two timeouts above (its default is 30 s, far longer than they are). */
  readonly timeoutCheckMs?: number;
}

const isLoopback = (host: string): boolean =>
  (isIPv4(host) && host.startsWith('127.')) || (isIPv6(host) && (host === '::1' || host === '0:0:0:0:0:0:0:1'));

/**
 * `inet:127.x.x.x:PORT`, `inet:[::1]:PORT` or `inet:localhost:PORT` (bound as 127.0.0.1, never resolved: a
 * resolver or /etc/hosts must not be able to point it elsewhere). Anything else throws config.invalid.
 */
export function parseMetricsAddress(address: string): { host: string; port: number } {
  const match = /^inet:(\[[^\]]*\]|[^\s:[\]]+):(\d{1,5})$/.exec(address);
  const raw = match?.[1] ?? '';
  const host = raw === 'localhost' ? '127.0.0.1' : raw.replace(/^\[(.*)\]$/, '$1');
  const port = Number(match?.[2]);
  if (match === null || !isLoopback(host) || !(port >= 0 && port < 65536)) {
    throw permanent(
      'config.invalid',
      `serve_metrics must be loopback (inet:127.0.0.1:PORT or inet:[::1]:PORT), not ${JSON.stringify(address)}`,
    );
  }
  return { host, port };
}

function answer(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': status === 200 ? METRICS_CONTENT_TYPE : 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(body);
}

function handle(req: IncomingMessage, res: ServerResponse, render: () => string): void {
  req.resume(); // a body (there should be none) is read and dropped, so the connection can go on
  const path = (req.url ?? '').split('?', 1)[0];
  if (path !== '/metrics') return answer(res, 404, 'not found: the metrics are at /metrics\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return answer(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
  }
  let body: string;
  try {
    body = render();
  } catch {
    return answer(res, 500, 'metrics unavailable\n');
  }
  answer(res, 200, body); // for HEAD, node:http sends the headers only
}

/** Listens on a loopback address and serves render()'s text at /metrics. Rejects if the address is refused. */
export async function startMetricsServer(
  address: string,
  render: () => string,
  options: MetricsServerOptions = {},
): Promise<MetricsServer> {
  const { host, port } = parseMetricsAddress(address);
  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 5_000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      connectionsCheckingInterval: options.timeoutCheckMs ?? 1_000,
      keepAliveTimeout: 5_000,
      maxHeaderSize: 8_192,
    },
    (req, res) => handle(req, res, render),
  );
  server.maxHeadersCount = 64;
  // A malformed, oversized or too slow request, or a reset socket: answer if the socket still takes it (with the
  // status Node itself would use), then drop it. Never let it throw.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || socket.destroyed || error.code === 'ECONNRESET') return void socket.destroy();
    const status =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => options.onError?.(error));
  const bound = server.address() as AddressInfo;
  if (!isLoopback(bound.address)) {
    // Cannot happen with the host checked above; if it ever did, nothing is served off-host.
    server.close();
    throw permanent('config.invalid', `metrics server bound ${bound.address}, not a loopback address`);
  }
  return {
    port: bound.port,
    host: bound.address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
