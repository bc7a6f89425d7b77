// The metrics endpoint over real sockets: what it answers where, that it listens on loopback only and refuses any
// other address, and that hostile or slow clients and a failing render never take it down.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import {
  METRICS_CONTENT_TYPE,
  parseMetricsAddress,
  startMetricsServer,
  type MetricsServer,
} from '../../src/serve/metrics-http.js';

type Reply = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

function fetchReply(port: number, path: string, method = 'GET', host = '127.0.0.1'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? 'x=1' : undefined);
  });
}

/** Writes raw bytes and collects what the server sends until it closes the connection. */
function rawExchange(port: number, bytes: string): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(bytes));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, ms: Date.now() - started }));
  });
}

const nonLoopbackIPv4 = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;

describe('metrics endpoint', () => {
  let server: MetricsServer;
  let renders = 0;
  before(async () => {
    server = await startMetricsServer(
      'inet:127.0.0.1:0',
      () => `# HELP x_total x\n# TYPE x_total counter\nx_total ${++renders}\n`,
    );
  });
  after(() => server.close());

  it('GET /metrics answers 200 with the 0.0.4 content type and a fresh render each time', async () => {
    const first = await fetchReply(server.port, '/metrics');
    assert.equal(first.status, 200);
    assert.equal(first.headers['content-type'], METRICS_CONTENT_TYPE);
    assert.equal(METRICS_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(first.body, /^x_total \d+$/m);
    const second = await fetchReply(server.port, '/metrics?x=1'); // Prometheus's scrape `params` add a query
    assert.equal(second.status, 200);
    assert.notEqual(second.body, first.body);
  });

  it('HEAD /metrics answers the headers only', async () => {
    const reply = await fetchReply(server.port, '/metrics', 'HEAD');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, '');
  });

  for (const path of ['/', '/metrics/', '/metricsx', '/favicon.ico', '/../metrics']) {
    it(`GET ${path} answers 404`, async () => {
      assert.equal((await fetchReply(server.port, path)).status, 404);
    });
  }

  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
    it(`${method} /metrics answers 405 with Allow`, async () => {
      const reply = await fetchReply(server.port, '/metrics', method);
      assert.equal(reply.status, 405);
      assert.equal(reply.headers.allow, 'GET, HEAD');
    });
  }

  it('listens on 127.0.0.1 only: the same port on a non-loopback address refuses the connection', async (t) => {
    assert.equal(server.host, '127.0.0.1');
    if (nonLoopbackIPv4 === undefined) return t.skip('this machine has no non-loopback IPv4 address');
    await assert.rejects(fetchReply(server.port, '/metrics', 'GET', nonLoopbackIPv4), { code: 'ECONNREFUSED' });
  });

  it('answers garbage with 400 and goes on serving', async () => {
    const { text } = await rawExchange(server.port, 'NOT HTTP AT ALL\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 400 /);
    const { text: huge } = await rawExchange(server.port, `GET /metrics HTTP/1.1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.match(huge, /^HTTP\/1\.1 431 /);
    assert.equal((await fetchReply(server.port, '/metrics')).status, 200);
  });

  it('survives a client that disconnects mid-request', async () => {
    await new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: server.port }, () => {
        socket.write('GET /metr');
        socket.destroy();
        resolve();
      });
    });
    assert.equal((await fetchReply(server.port, '/metrics')).status, 200);
  });
});

describe('metrics endpoint: limits and failures', () => {
  it('drops a client that never finishes its headers (headersTimeout)', async () => {
    const server = await startMetricsServer('inet:127.0.0.1:0', () => '', {
      headersTimeoutMs: 200,
      requestTimeoutMs: 400,
      timeoutCheckMs: 50,
    });
    try {
      const { text, ms } = await rawExchange(server.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n');
      assert.match(text, /^HTTP\/1\.1 408 /);
      assert.ok(ms < 3_000, `closed after ${ms} ms`);
    } finally {
      await server.close();
    }
  });

  it('a render that throws answers 500, and the next scrape works', async () => {
    let fail = true;
    const server = await startMetricsServer('inet:127.0.0.1:0', () => {
      if (fail) throw new Error('boom');
      return 'ok_total 1\n';
    });
    try {
      const reply = await fetchReply(server.port, '/metrics');
      assert.equal(reply.status, 500);
      assert.ok(!reply.body.includes('boom'), 'no internals in the answer');
      fail = false;
      assert.equal((await fetchReply(server.port, '/metrics')).status, 200);
    } finally {
      await server.close();
    }
  });

  it('close() resolves with a keep-alive connection still open', async () => {
    const server = await startMetricsServer('inet:127.0.0.1:0', () => 'x 1\n');
    const socket = connect({ host: '127.0.0.1', port: server.port });
    await new Promise<void>((resolve) => {
      socket.once('data', () => resolve());
      socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await server.close();
    await closed;
  });

  it('a port in use rejects the start (no crash)', async () => {
    const first = await startMetricsServer('inet:127.0.0.1:0', () => '');
    try {
      await assert.rejects(
        startMetricsServer(`inet:127.0.0.1:${first.port}`, () => ''),
        { code: 'EADDRINUSE' },
      );
    } finally {
      await first.close();
    }
  });

  it('listens on [::1] when given it', async (t) => {
    let server: MetricsServer;
    try {
      server = await startMetricsServer('inet:[::1]:0', () => 'x 1\n');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') return t.skip('no IPv6 loopback here');
      throw error;
    }
    try {
      assert.equal(server.host, '::1');
      assert.equal((await fetchReply(server.port, '/metrics', 'GET', '::1')).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe('metrics endpoint: addresses', () => {
  for (const [address, host, port] of [
    ['inet:127.0.0.1:9129', '127.0.0.1', 9129],
    ['inet:127.1.2.3:0', '127.1.2.3', 0],
    ['inet:[::1]:9129', '::1', 9129],
    ['inet:localhost:9129', '127.0.0.1', 9129], // never resolved: /etc/hosts cannot move it off loopback
  ] as const) {
    it(`takes ${address}`, () => assert.deepEqual(parseMetricsAddress(address), { host, port }));
  }

  for (const address of [
    'inet:0.0.0.0:9129',
    'inet:192.0.2.2:9129',
    'inet:[::]:9129',
    'inet:[fd00::2]:9129',
    'inet:[::ffff:192.0.2.2]:9129',
    'inet:example.org:9129',
    'inet:127.0.0.1.example.org:9129',
    'inet:127.0.0.1:65536',
    'inet:127.0.0.1:',
    'inet:127.0.0.1',
    'unix:/run/pgpipe/metrics',
    '127.0.0.1:9129',
    '',
  ]) {
    it(`refuses ${JSON.stringify(address)}`, async () => {
      assert.throws(() => parseMetricsAddress(address), { name: 'PgpipeError', code: 'config.invalid' });
      await assert.rejects(
        startMetricsServer(address, () => ''),
        { code: 'config.invalid' },
      );
    });
  }
});
