// Where serve's one line per transaction goes: stderr (the journal, under systemd), syslog, or nowhere. For syslog
// one logger(1) child lives as long as the service and takes the lines on its stdin (Node has no unix datagram
// sockets; a logger run per message would cost a process start each). Losing a line never touches the mail.
import { spawn, type ChildProcess } from 'node:child_process';
import { LOGGER_PATH } from '../adapters/syslog.js';

export interface ServiceLog {
  write(line: string): void;
  close(): void;
}

export function createServiceLog(target: 'stderr' | 'syslog' | 'none', loggerPath = LOGGER_PATH): ServiceLog {
  // A closed stderr (a dead log pipe) would be an uncaught EPIPE and end the service with every transaction in it.
  if (process.stderr.listenerCount('error') === 0) process.stderr.on('error', () => undefined);
  if (target === 'none') return { write: () => undefined, close: () => undefined };
  const toStderr = (line: string): void => void process.stderr.write(`pgpipe: ${line}\n`);
  if (target === 'stderr') return { write: toStderr, close: () => undefined };
  let logger: ChildProcess | null = null;
  const start = (): ChildProcess | null => {
    try {
      const child = spawn(loggerPath, ['-t', 'pgpipe', '-p', 'mail.info', `--id=${process.pid}`], {
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      child.on('error', () => (logger = null));
      child.on('exit', () => (logger = null));
      child.stdin?.on('error', () => (logger = null));
      child.unref();
      return child;
    } catch {
      return null;
    }
  };
  return {
    write(line) {
      logger ??= start();
      if (logger?.stdin?.writable) logger.stdin.write(`${line}\n`);
      else toStderr(line); // logger could not be started: the line still reaches the operator
    },
    close() {
      logger?.stdin?.end();
      logger = null;
    },
  };
}
