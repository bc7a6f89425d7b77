#!/usr/bin/env node
// LMTP (or SMTP) sink for the bench: the next hop's stand-in. In LMTP mode it is `pgpipe deliver`'s and
// `pgpipe serve --protocol lmtp`'s Dovecot; with --smtp it is the re-injection smtpd that `pgpipe serve --protocol
// smtp` hands mail back to (Postfix's 127.0.0.1:10026). smtp-server answers 250 for every recipient and discards
// the message; with a capture file it writes the last one there (the correctness check), with --samples DIR it
// keeps every --every'th message as DIR/N.eml (at most 20: the bench decrypts them afterwards). It greets at once,
// as Dovecot and Postfix's smtpd do (see below). A process of its own: the bench's timed runs block its event loop.
// Prints "ready ADDRESS" when up (the bound port when given port 0).
// Usage: node bench/lmtp-sink.js [--smtp] [--samples DIR [--every N]] SOCKET|unix:PATH|inet:HOST:PORT [CAPTURE_FILE]
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

// smtp-server holds every greeting back 100 ms to catch early talkers (SMTPConnection.init, a fixed timer with no
// option). Dovecot's LMTP greets at once, so with that pause the bench timed the sink: ~100 ms of deliver's ~200 ms
// wall was pgpipe idle, waiting for "220". Greet at once (same connectionReady path, minus the timer); if the
// internals moved, refuse to start rather than put the pause back into the figures unnoticed.
const proto = SMTPConnection.prototype;
if (![proto.init, proto._setListeners, proto.connectionReady].every((method) => typeof method === 'function')) {
  process.stderr.write('lmtp-sink: smtp-server internals changed (SMTPConnection.init): update bench/lmtp-sink.js\n');
  process.exit(1);
}
proto.init = function init() {
  this._setListeners(() => this.connectionReady());
};

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    smtp: { type: 'boolean', default: false },
    samples: { type: 'string' },
    every: { type: 'string', default: '1' },
  },
});
const [address, capture] = positionals;
const every = Number(opts.every);
const MAX_SAMPLES = 20;
let received = 0;
let kept = 0;

const lmtp = !opts.smtp;
const server = new SMTPServer({
  lmtp,
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  hideSTARTTLS: true,
  logger: false,
  disableReverseLookup: true, // a unix socket has no peer address; Dovecot does not look one up either
  // The re-injection smtpd takes XFORWARD from loopback (smtpd_authorized_xforward_hosts, FILTER_README).
  useXForward: opts.smtp,
  size: 100_000_000,
  onData(stream, session, callback) {
    received += 1;
    const sample = opts.samples !== undefined && kept < MAX_SAMPLES && received % every === 0;
    const chunks = capture || sample ? [] : null;
    stream.on('data', (chunk) => chunks?.push(chunk));
    stream.on('end', () => {
      if (capture) writeFileSync(capture, Buffer.concat(chunks));
      if (sample) {
        kept += 1;
        writeFileSync(join(opts.samples, `${received}.eml`), Buffer.concat(chunks));
      }
      if (lmtp)
        callback(
          null,
          session.envelope.rcptTo.map(() => '2.0.0 Saved'),
        );
      else callback(null, '2.0.0 Ok: queued');
    });
  },
});

function bound() {
  const where = server.server.address();
  return typeof where === 'string' ? `unix:${where}` : `inet:${where.address}:${where.port}`;
}

const inet = /^inet:(.+):(\d+)$/.exec(address);
const ready = () => process.stdout.write(`ready ${bound()}\n`);
if (inet) server.listen(Number(inet[2]), inet[1], ready);
else {
  const path = address.replace(/^unix:/, '');
  rmSync(path, { force: true });
  server.listen(path, ready);
}
process.on('SIGTERM', () => server.close(() => process.exit(0)));
