// Throwaway PostgreSQL 15 cluster for tests: initdb in a temp dir, unix socket only, fsync off, the tutorial's
// tables in database mailstore_db. Works as root (server runs as OS user postgres) and as a normal user.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TUTORIAL_SQL } from '../../src/store/tutorial-schema.js';

const run = promisify(execFile);
const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const asRoot = process.getuid?.() === 0;

export interface PgCluster {
  /** postgresql:///mailstore_db?host=<socketDir>&user=<superuser> */
  readonly url: string;
  readonly socketDir: string;
  /** Runs SQL through psql (unaligned, tuples only) and returns stdout. */
  psql(sql: string, database?: string): Promise<string>;
  /** Stops the server and removes the cluster directory. */
  stop(): Promise<void>;
  /** Stops the server, keeps the data (to test "database down"). */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
}

const live = new Set<() => void>();
let hooked = false;

function hookCleanup(): void {
  if (hooked) return;
  hooked = true;
  // A crashed test file must not leave servers running: stop everything synchronously on the way out.
  process.on('exit', () => {
    for (const kill of live) kill();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const kill of live) kill();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/**
 * Last line of defence when the test process is SIGKILLed (no 'exit' event): a detached shell polls our pid and,
 * once it is gone, stops the server and removes the cluster. It exits by itself when stop() removed the dir.
 */
function watchdog(root: string, data: string): void {
  const stop = asRoot
    ? `runuser -u postgres -- "${BIN}/pg_ctl" -D "$2" -m immediate stop`
    : `"${BIN}/pg_ctl" -D "$2" -m immediate stop`;
  const script =
    `while kill -0 "$1" 2>/dev/null && [ -d "$3" ]; do sleep 1; done; ` +
    `if [ -d "$3" ]; then [ -f "$2/postmaster.pid" ] && ${stop} >/dev/null 2>&1; rm -rf "$3"; fi`;
  const child = spawn('sh', ['-c', script, 'pg-watchdog', String(process.pid), data, root], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
}

export async function startPostgres(): Promise<PgCluster> {
  hookCleanup();
  const root = mkdtempSync(join(tmpdir(), 'pgpipe-pg-'));
  const data = join(root, 'data');
  const socketDir = root;
  const owner = asRoot ? 'postgres' : userInfo().username;
  if (asRoot) execFileSync('chown', ['postgres:', root]);
  const asOwner = (file: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(BIN, file), ...args]) : run(join(BIN, file), args);
  const options =
    `-c listen_addresses='' -k ${socketDir} -c fsync=off -c synchronous_commit=off ` +
    '-c full_page_writes=off -c shared_buffers=16MB -c max_connections=20';
  const startServer = async () => {
    await asOwner('pg_ctl', ['-D', data, '-l', join(root, 'log'), '-o', options, '-w', '-t', '30', 'start']);
  };
  const stopServer = async () => {
    await asOwner('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  };
  const killSync = () => {
    if (existsSync(join(data, 'postmaster.pid'))) {
      try {
        const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
        if (asRoot)
          execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, 'pg_ctl'), ...args], { stdio: 'ignore' });
        else execFileSync(join(BIN, 'pg_ctl'), args, { stdio: 'ignore' });
      } catch {
        // already down
      }
    }
    rmSync(root, { recursive: true, force: true });
  };
  live.add(killSync);
  watchdog(root, data);
  try {
    await asOwner('initdb', [
      '-D',
      data,
      '-U',
      owner,
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
      '--no-instructions',
    ]);
    await startServer();
  } catch (error) {
    killSync();
    live.delete(killSync);
    throw error;
  }
  const psql = async (sql: string, database = 'mailstore_db'): Promise<string> => {
    const file = join(root, `q-${process.hrtime.bigint()}.sql`);
    writeFileSync(file, sql);
    if (asRoot) chownSync(file, 0, 0);
    try {
      const { stdout } = await run(
        join(BIN, 'psql'),
        ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', socketDir, '-U', owner, '-d', database, '-f', file],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      return stdout;
    } finally {
      rmSync(file, { force: true });
    }
  };
  await psql('CREATE DATABASE mailstore_db', 'postgres');
  await psql(TUTORIAL_SQL);
  return {
    url: `postgresql:///mailstore_db?host=${encodeURIComponent(socketDir)}&user=${encodeURIComponent(owner)}`,
    socketDir,
    psql,
    stopServer,
    startServer,
    stop: async () => {
      live.delete(killSync);
      try {
        await stopServer();
      } catch {
        // already stopped
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
