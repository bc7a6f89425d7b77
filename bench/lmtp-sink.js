#!/usr/bin/env node
// LMTP sink for the bench (`pgpipe deliver`'s Dovecot stand-in): smtp-server in LMTP mode on a unix socket, answers
// 250 for every recipient and discards the message, or with a capture file writes the last one there (the
// correctness check). A process of its own: the bench's timed runs block its event loop. Prints "ready" when up.
// Usage: node bench/lmtp-sink.js SOCKET [CAPTURE_FILE]
import { rmSync, writeFileSync } from 'node:fs';
import { SMTPServer } from 'smtp-server';

const [socket, capture] = process.argv.slice(2);
rmSync(socket, { force: true });
const server = new SMTPServer({
  lmtp: true,
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  logger: false,
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
