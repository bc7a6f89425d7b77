#!/usr/bin/env node
// LMTP sink for the bench (`pgpipe deliver`'s Dovecot stand-in): smtp-server in LMTP mode on a unix socket, answers
// 250 for every recipient and discards the message, or with a capture file writes the last one there (the
// correctness check). It greets at once, as Dovecot does (see below). A process of its own: the bench's timed
// runs block its event loop. Prints "ready" when up.
// Usage: node bench/lmtp-sink.js SOCKET [CAPTURE_FILE]
import { rmSync, writeFileSync } from 'node:fs';
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

const [socket, capture] = process.argv.slice(2);
rmSync(socket, { force: true });
const server = new SMTPServer({
  lmtp: true,
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  logger: false,
  disableReverseLookup: true, // a unix socket has no peer address; Dovecot does not look one up either
  size: 100_000_000,
  onData(stream, session, callback) {
    const chunks = capture ? [] : null;
    stream.on('data', (chunk) => chunks?.push(chunk));
    stream.on('end', () => {
      if (chunks) writeFileSync(capture, Buffer.concat(chunks));
      callback(
        null,
        session.envelope.rcptTo.map(() => '2.0.0 Saved'),
      );
    });
  },
});
server.listen(socket, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
