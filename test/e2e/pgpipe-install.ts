// What the e2e tests install beside the private Postfix, as an administrator would: the pipe users, a pgpipe those
// users can run, the snippets' PostgreSQL access (pg_hba/pg_ident, GRANTs) and a pgpipe.conf. Needs root.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PgCluster } from '../helpers/pg-cluster.js';
import { snippet } from './postfix-instance.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));

export async function ensureUser(name: string): Promise<void> {
  try {
    await run('id', ['-u', name]);
  } catch {
    await run('useradd', [
      '--system',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      name,
    ]);
  }
}

/**
 * bin/pgpipe as `users` can run it: the checkout in place if they can read it, else a readable copy in a temp dir.
 * remove() deletes the copy (if one was made).
 */
export async function installedPgpipe(users: readonly string[]): Promise<{ bin: string; remove(): void }> {
  // PGPIPE_E2E_BIN names an installed pgpipe instead (test/package runs the e2e files against /usr/bin/pgpipe).
  if (process.env.PGPIPE_E2E_BIN) return { bin: process.env.PGPIPE_E2E_BIN, remove: () => undefined };
  const bin = join(REPO, 'bin/pgpipe');
  try {
    for (const user of users) {
      await run('runuser', ['-u', user, '--', 'test', '-r', join(REPO, 'dist/cli.js')]);
      await run('runuser', ['-u', user, '--', 'test', '-x', bin]);
    }
    return { bin, remove: () => undefined };
  } catch {
    const appDir = mkdtempSync(join(tmpdir(), 'pgpipe-app-'));
    chmodSync(appDir, 0o755);
    for (const part of ['bin', 'dist', 'node_modules', 'package.json']) {
      cpSync(join(REPO, part), join(appDir, part), { recursive: true });
    }
    return { bin: join(appDir, 'bin/pgpipe'), remove: () => rmSync(appDir, { recursive: true, force: true }) };
  }
}

/** The snippets' pg_hba/pg_ident lines (plus trust for the test's own superuser), and the snippet's GRANTs. */
export async function applyPostgresSnippets(cluster: PgCluster, users: readonly string[]): Promise<void> {
  chmodSync(cluster.socketDir, 0o755); // the filter user must reach the socket
  const data = join(cluster.socketDir, 'data');
  writeFileSync(join(data, 'pg_hba.conf'), `${snippet('pg_hba.conf')}\nlocal all all trust\n`);
  writeFileSync(join(data, 'pg_ident.conf'), snippet('pg_ident.conf'));
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  for (const f of ['pg_hba.conf', 'pg_ident.conf']) chownSync(join(data, f), Number(uid), -1);
  await cluster.psql(snippet('grants.sql'));
  await cluster.psql('SELECT pg_reload_conf()', 'postgres');
  // Fail early and clearly if peer authentication through the map does not work.
  for (const user of users) {
    await run('runuser', [
      '-u',
      user,
      '--',
      '/usr/lib/postgresql/15/bin/psql',
      '-X',
      '-h',
      cluster.socketDir,
      '-U',
      'pgpipe',
      '-d',
      'mailstore_db',
      '-Atc',
      'SELECT count(*) FROM users, aliases',
    ]);
  }
}

/** The URL pgpipe uses for the test cluster: the unix socket, peer authentication mapped to role pgpipe. */
export const pgpipeDatabaseUrl = (cluster: PgCluster): string =>
  `postgresql:///mailstore_db?host=${cluster.socketDir}&user=pgpipe`;

/** postfix-snippets/pgpipe.conf pointed at the test cluster and spamd. */
export function pgpipeConf(cluster: PgCluster, spamdPort: number): string {
  return snippet('pgpipe.conf')
    .replace(/^database_url = .*$/m, `database_url = ${pgpipeDatabaseUrl(cluster)}`)
    .replace(/^spamc_args = .*$/m, `spamc_args = -d 127.0.0.1 -p ${spamdPort}`)
    .replace(/^deadline = .*$/m, 'deadline = 60000');
}
