// A throwaway GnuPG home for the admin tests. stdin is never a pipe: gpg often exits without reading it, and a
// write into the closed pipe would fail the test with EPIPE (input goes through files instead).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Gnupg {
  readonly home: string;
  gpg(args: readonly string[]): Promise<{ code: number; stdout: Buffer; stderr: string }>;
  close(): Promise<void>;
}

export function gnupgHome(): Gnupg {
  const home = mkdtempSync(join(tmpdir(), 'pgpipe-admin-gpg-'));
  const run = (file: string, args: readonly string[]) =>
    new Promise<{ code: number; stdout: Buffer; stderr: string }>((resolve, reject) => {
      const child = execFile(
        file,
        [...args],
        { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error !== null && typeof error.code !== 'number') reject(error);
          else resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr: stderr.toString('utf8') });
        },
      );
      child.stdin?.destroy();
    });
  return {
    home,
    gpg: (args) =>
      run('gpg', [
        '--homedir',
        home,
        '--batch',
        '--no-tty',
        '--pinentry-mode',
        'loopback',
        '--passphrase',
        '',
        ...args,
      ]),
    async close() {
      await run('gpgconf', ['--homedir', home, '--kill', 'all']).catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
}
