// Sends the operator's log line to syslog (facility mail) through logger(1): Node has no unix datagram sockets.
// The line goes on logger's stdin, never on its command line; a logging failure is swallowed, never fatal.
import { runChild } from './run-child.js';

export const LOGGER_PATH = '/usr/bin/logger';

export async function writeSyslog(line: string, loggerPath = LOGGER_PATH): Promise<void> {
  try {
    await runChild(
      loggerPath,
      ['-t', 'pgpipe', '-p', 'mail.info', '--id=' + String(process.pid)],
      Buffer.from(`${line}\n`),
      {
        signal: AbortSignal.timeout(5000),
        timeoutMs: 5000,
      },
    );
  } catch {
    // Losing one log line must never change what happens to the mail.
  }
}
