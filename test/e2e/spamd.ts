// A private spamd for the e2e test: loopback TCP on a free port, local tests only (no DNS, no network), rules as
// shipped by Debian's spamassassin package (no sa-update needed). Started and stopped by the test; bounded waits.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface Spamd {
  readonly port: number;
  stop(): Promise<void>;
}

export async function startSpamd(): Promise<Spamd> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    '/usr/sbin/spamd',
    [
      `--listen=127.0.0.1:${port}`,
      '--allowed-ips=127.0.0.1',
      '--local',
      '--nouser-config',
      '--max-children=2',
      '--username=debian-spamd',
      '--syslog=stderr',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // If the test process dies first, spamd must not outlive it.
  const killOnExit = (): void => void child.kill('SIGTERM'); // spamd stops its children on TERM
  process.once('exit', killOnExit);
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const closed = new Promise((r) => child.once('close', r));
    child.kill('SIGTERM');
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  for (let i = 0; i < 120; i++) {
    try {
      // spamc -K (PING) exits 0 only when spamd answered.
      await run('/usr/bin/spamc', ['-K', '-d', '127.0.0.1', '-p', String(port)], { timeout: 5000 });
      return { port, stop };
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`spamd did not start: ${log}`);
}
