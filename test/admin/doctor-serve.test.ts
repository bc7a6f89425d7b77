// `pgpipe doctor` checking a running `pgpipe serve` (serve_listen set): against small smtp-server listeners in this
// test (LMTP on a unix socket, SMTP on loopback) and a metrics endpoint, no real pgpipe serve. The other checks run
// against nothing (no database, no spamc) and are not judged here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { runCli } from '../helpers/run-cli.js';
import { doctorLines, type DoctorLine } from './doctor-lines.js';

const DOVECOT_LMTP = '/usr/lib/dovecot/lmtp';

/** A listener like pgpipe serve's front end: smtp-server, banner "pgpipe", LMTP or SMTP. */
function listener(options: { lmtp: boolean; banner?: string; maxClients?: number }): { server: SMTPServer } {
  const server = new SMTPServer({
    lmtp: options.lmtp,
    name: 'mx.doctor.test',
    banner: options.banner ?? 'pgpipe',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    ...(options.maxClients === undefined ? {} : { maxClients: options.maxClients }),
    logger: false,
  });
  return { server };
}

const listen = (server: SMTPServer, at: number): Promise<void> =>
  new Promise((resolve) => server.listen(at, '127.0.0.1', () => resolve()));
const listenUnix = (server: SMTPServer, path: string): Promise<void> =>
  new Promise((resolve) => server.listen(path, () => resolve()));
const close = (server: SMTPServer): Promise<void> => new Promise((resolve) => server.close(() => resolve()));
const port = (server: SMTPServer): number => (server.server.address() as AddressInfo).port;

// Nothing else is reachable: the database and spamd checks fail fast and are ignored.
const doctor = (args: string[]) =>
  runCli(['doctor', '--no-spam-check', '--db', 'postgresql://root@127.0.0.1:1/none', '--db-timeout', '500', ...args], {
    timeoutMs: 60_000,
  });
const find = async (args: string[], name: string): Promise<DoctorLine | undefined> =>
  doctorLines((await doctor(args)).stdout).find((l) => l.name === name);

describe('pgpipe doctor: a running pgpipe serve', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pgpipe-doctor-serve-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('LMTP on a unix socket: greeting, LHLO and QUIT answered, with the time they took', async () => {
    const { server } = listener({ lmtp: true });
    const path = join(dir, 'lmtp');
    await listenUnix(server, path);
    try {
      const line = await find(['--protocol', 'lmtp', '--listen', `unix:${path}`], 'serve');
      assert.equal(line?.status, 'ok', JSON.stringify(line));
      assert.match(
        line?.detail ?? '',
        new RegExp(`^unix:${path} answers: "220 mx\\.doctor\\.test LMTP pgpipe", LHLO and QUIT in \\d+ ms$`),
      );
    } finally {
      await close(server);
    }
  });

  it('SMTP on loopback (from the config file), and its metrics: in flight and deferred', async () => {
    const { server } = listener({ lmtp: false });
    await listen(server, 0);
    const metrics: HttpServer = createHttpServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(
        [
          '# HELP pgpipe_messages_total Mail transactions finished, by outcome.',
          '# TYPE pgpipe_messages_total counter',
          'pgpipe_messages_total{outcome="delivered"} 10',
          'pgpipe_messages_total{outcome="deferred"} 3',
          'pgpipe_messages_total{outcome="rejected"} 1',
          '# TYPE pgpipe_transactions_in_flight gauge',
          'pgpipe_transactions_in_flight 2',
          '',
        ].join('\n'),
      );
    });
    await new Promise<void>((resolve) => metrics.listen(0, '127.0.0.1', () => resolve()));
    const metricsPort = (metrics.address() as AddressInfo).port;
    try {
      const conf = join(dir, 'pgpipe.conf');
      writeFileSync(
        conf,
        `serve_protocol = smtp\nserve_listen = inet:127.0.0.1:${port(server)}\n` +
          `serve_metrics = inet:127.0.0.1:${metricsPort}\n`,
      );
      const got = doctorLines((await doctor(['--config', conf])).stdout);
      const serve = got.find((l) => l.name === 'serve');
      assert.equal(serve?.status, 'ok', JSON.stringify(got));
      assert.match(serve?.detail ?? '', /"220 mx\.doctor\.test ESMTP pgpipe", EHLO and QUIT in \d+ ms$/);
      const line = got.find((l) => l.name === 'metrics');
      assert.deepEqual(
        [line?.status, line?.detail],
        ['ok', '2 transactions in flight, 3 messages deferred since start'],
      );
      // The service last: after the filter user, as the wiring's order goes.
      assert.deepEqual(
        got.slice(-2).map((l) => l.name),
        ['serve', 'metrics'],
      );
    } finally {
      await close(server);
      await new Promise((resolve) => metrics.close(resolve));
    }
    // Metrics configured but not served: its own failing line.
    const { server: again } = listener({ lmtp: false });
    await listen(again, 0);
    try {
      const args = ['--protocol', 'smtp', '--listen', `inet:127.0.0.1:${port(again)}`];
      const line = await find([...args, '--metrics', `inet:127.0.0.1:${metricsPort}`], 'metrics');
      assert.equal(line?.status, 'FAIL');
      assert.match(line?.detail ?? '', /^no metrics at inet:127\.0\.0\.1:\d+\/metrics: ECONNREFUSED -- fix: start it/);
    } finally {
      await close(again);
    }
  });

  it("the next hop: Dovecot's own LMTP answering, or a failing line naming the listener to add", async (t) => {
    const { server } = listener({ lmtp: true });
    const path = join(dir, 'serve-lmtp');
    await listenUnix(server, path);
    // Dovecot's real lmtp(8), started per connection on the socket's stdio (as its master would hand it one).
    const conf = join(dir, 'dovecot.conf');
    writeFileSync(
      conf,
      'protocols = lmtp\nlog_path = /dev/null\nssl = no\npassdb {\n  driver = static\n}\n' +
        'userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=/nonexistent\n}\n',
    );
    const dovecot = createNetServer((socket) => {
      const lmtp = spawn(DOVECOT_LMTP, ['-c', conf], { stdio: ['pipe', 'pipe', 'ignore'] });
      socket.pipe(lmtp.stdin);
      lmtp.stdout.pipe(socket);
      socket.on('close', () => lmtp.kill());
    });
    const next = join(dir, 'dovecot-lmtp');
    await new Promise<void>((resolve) => dovecot.listen(next, resolve));
    try {
      const args = ['--protocol', 'lmtp', '--listen', `unix:${path}`, '--next'];
      if (existsSync(DOVECOT_LMTP)) {
        const line = await find([...args, `unix:${next}`], 'serve next hop');
        assert.equal(line?.status, 'ok', JSON.stringify(line));
        assert.match(line?.detail ?? '', /^unix:\S+ answers LHLO in \d+ ms: "220 \S+ Dovecot \(Debian\) ready\."$/);
      } else {
        t.diagnostic(`${DOVECOT_LMTP} missing (dovecot-lmtpd): the Dovecot case is not run`);
      }
      const missing = await find([...args, `unix:${join(dir, 'no-dovecot')}`], 'serve next hop');
      assert.equal(missing?.status, 'FAIL');
      assert.match(
        missing?.detail ?? '',
        /does not answer: ENOENT; serve defers all mail -- fix: give Dovecot the listener serve_next names/,
      );
      // An SMTP server where an LMTP one should be refuses LHLO.
      const { server: smtp } = listener({ lmtp: false });
      await listen(smtp, 0);
      try {
        const line = await find([...args, `inet:127.0.0.1:${port(smtp)}`], 'serve next hop');
        assert.equal(line?.status, 'FAIL');
        assert.match(line?.detail ?? '', /answers LHLO with "5\d\d .*": serve defers all mail/);
      } finally {
        await close(smtp);
      }
    } finally {
      await close(server);
      await new Promise((resolve) => dovecot.close(resolve));
    }
  });

  it('not running: a failing line that says what to do', async () => {
    const unix = await find(['--listen', `unix:${join(dir, 'nothing-here')}`], 'serve');
    assert.equal(unix?.status, 'FAIL');
    assert.match(
      unix?.detail ?? '',
      /^pgpipe serve does not answer on unix:\S+: ENOENT -- fix: start it: systemctl enable --now pgpipe-serve; see systemctl status pgpipe-serve/,
    );
    const { server } = listener({ lmtp: false });
    await listen(server, 0);
    const free = port(server);
    await close(server);
    const result = await doctor(['--protocol', 'smtp', '--listen', `inet:127.0.0.1:${free}`]);
    assert.equal(result.code, 1);
    assert.match(doctorLines(result.stdout).find((l) => l.name === 'serve')?.detail ?? '', /: ECONNREFUSED -- fix: /);
  });

  it('the wrong protocol, a saturated service, or another server on the address', async () => {
    const { server: smtp } = listener({ lmtp: false });
    await listen(smtp, 0);
    try {
      const line = await find(['--protocol', 'lmtp', '--listen', `inet:127.0.0.1:${port(smtp)}`], 'serve');
      assert.equal(line?.status, 'FAIL');
      assert.match(
        line?.detail ?? '',
        /greets "220 mx\.doctor\.test ESMTP pgpipe", not LMTP: serve_protocol says lmtp/,
      );
    } finally {
      await close(smtp);
    }

    // One client is all it takes: the doctor's connection is the one too many and gets 421.
    const { server: full } = listener({ lmtp: true, maxClients: 1 });
    await listen(full, 0);
    const held: Socket = connect(port(full), '127.0.0.1');
    await new Promise((resolve) => held.once('data', resolve));
    try {
      const line = await find(['--listen', `inet:127.0.0.1:${port(full)}`], 'serve');
      assert.equal(line?.status, 'FAIL');
      assert.match(line?.detail ?? '', /greets "421 .*", not 220: Postfix gets no service there/);
    } finally {
      held.destroy();
      await close(full);
    }

    const { server: other } = listener({ lmtp: true, banner: 'Dovecot ready.' });
    await listen(other, 0);
    try {
      const line = await find(['--listen', `inet:127.0.0.1:${port(other)}`], 'serve');
      assert.equal(line?.status, 'WARN');
      assert.match(line?.detail ?? '', /is not pgpipe's greeting: is another server listening there\?/);
    } finally {
      await close(other);
    }
  });
});
