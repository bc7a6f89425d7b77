// Reads the public keys of a GnuPG home (gpgit's keyring, e.g. /var/opt/gpgit/.gnupg) through gpg itself, which
// knows every keyring format (pubring.kbx, the older pubring.gpg). Read-only by construction: no trustdb check,
// no lock files, no random seed, no gpg.conf of that home, and --export, which never outputs secret key material
// (a key whose secret half is in the keyring is exported as its public key only). Nothing goes to disk: the
// export is read from gpg's stdout into memory. Works on a home we cannot write to.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { permanent } from '../errors.js';

export interface KeyringKey {
  /** Primary key fingerprint, upper-case hex, as gpg lists it. */
  readonly fingerprint: string;
  /** User IDs that are not revoked, as gpg lists them (decoded UTF-8). */
  readonly userIds: readonly string[];
  /** `gpg --export --armor FPR`: what `pgpipe key set` is handed by hand. */
  readonly armored: string;
}

const READ_ONLY = [
  '--batch',
  '--no-tty',
  '--no-options',
  '--no-auto-check-trustdb',
  '--lock-never',
  '--no-random-seed-file',
  '--no-permission-warning',
  '--trust-model',
  'always',
];

const TIMEOUT_MS = 30_000;

function gpg(home: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'gpg',
      ['--homedir', home, ...READ_ONLY, ...args],
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: TIMEOUT_MS, env: { ...process.env, LC_ALL: 'C' } },
      (error, stdout, stderr) => {
        if (error === null) return resolve(stdout);
        const spawnFailed = typeof error.code === 'string';
        const why = spawnFailed
          ? `cannot run gpg (${String(error.code)}): install gnupg`
          : (stderr
              .split('\n')
              .map((l) => l.trim())
              .filter((l) => l !== '')
              .slice(-1)[0] ?? `exit ${String(error.code)}`);
        reject(permanent('input.read-failed', `reading the GnuPG home ${home} failed: ${why.slice(0, 200)}`, error));
      },
    );
    child.stdin?.destroy(); // gpg must never wait for input
  });
}

/** Every public key of the GnuPG home `home`, in keyring order. */
export async function readGnupgHome(home: string): Promise<KeyringKey[]> {
  // gpg creates a missing home directory: check first, so a typo is an error and not a new empty keyring.
  let isDir = false;
  try {
    isDir = statSync(home).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw permanent('usage', `--gnupg-home ${home} is not a directory (gpgit's is /var/opt/gpgit/.gnupg)`);
  const listing = parseColons(await gpg(home, ['--with-colons', '--fixed-list-mode', '--list-keys']));
  const keys: KeyringKey[] = [];
  for (const entry of listing) {
    keys.push({ ...entry, armored: await gpg(home, ['--armor', '--export', entry.fingerprint]) });
  }
  return keys;
}

/** `pub`, its `fpr`, and its `uid` lines of gpg's --with-colons listing (doc/DETAILS in GnuPG). */
export function parseColons(text: string): { fingerprint: string; userIds: string[] }[] {
  const keys: { fingerprint: string; userIds: string[] }[] = [];
  let current: { fingerprint: string; userIds: string[] } | null = null;
  let wantFpr = false;
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    const type = fields[0];
    if (type === 'pub') {
      current = { fingerprint: '', userIds: [] };
      keys.push(current);
      wantFpr = true;
    } else if (type === 'sub') {
      wantFpr = false; // the next fpr line is the subkey's
    } else if (type === 'fpr' && wantFpr && current !== null) {
      current.fingerprint = (fields[9] ?? '').toUpperCase();
      wantFpr = false;
    } else if (type === 'uid' && current !== null && fields[1] !== 'r') {
      current.userIds.push(unescapeColons(fields[9] ?? ''));
    }
  }
  return keys.filter((k) => /^[0-9A-F]{40}$|^[0-9A-F]{64}$/.test(k.fingerprint));
}

/** gpg escapes ':' and control bytes in user IDs as \xHH over UTF-8 bytes. */
function unescapeColons(field: string): string {
  const input = Buffer.from(field, 'utf8');
  const bytes: number[] = [];
  for (let i = 0; i < input.length; i++) {
    const hex = input.subarray(i + 2, i + 4).toString('latin1');
    if (input[i] === 0x5c && input[i + 1] === 0x78 && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      bytes.push(input[i] ?? 0);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
