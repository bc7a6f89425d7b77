// The real DoctorDeps: spawns programs with execa, checks files, opens the configured store.
// Kept apart from doctor.ts so the checks stay testable with any deps.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import type { Config } from '../config/load-config.js';
import { embeddedDataDir, openDb } from '../store/open-db.js';
import type { DoctorDeps, ExecResult } from './doctor.js';

const EXEC_TIMEOUT_MS = 20_000;

export async function createDoctorDeps(config: () => Config, self: readonly string[]): Promise<DoctorDeps> {
  const { execa } = await import('execa');
  return {
    config,
    openDb,
    async exec(file, args, options = {}): Promise<ExecResult> {
      const result = await execa(file, [...args], {
        reject: false,
        timeout: EXEC_TIMEOUT_MS,
        stdin: 'ignore',
        env: options.env ?? {},
        extendEnv: true,
      });
      const started = typeof result.exitCode === 'number';
      return {
        code: started && !result.timedOut ? (result.exitCode ?? null) : null,
        stdout: String(result.stdout ?? ''),
        stderr: String(result.stderr ?? ''),
        error:
          started && !result.timedOut
            ? null
            : result.timedOut
              ? 'timed out'
              : (result.code ?? result.shortMessage ?? 'failed'),
      };
    },
    async isExecutable(path) {
      try {
        await access(path, constants.X_OK);
        return (await stat(path)).isFile();
      } catch {
        return false;
      }
    },
    now: () => new Date(),
    isRoot: process.getuid?.() === 0,
    currentUser: userInfo().username,
    self,
    describeStore: (c) =>
      c.databaseUrl === undefined
        ? `embedded store in ${embeddedDataDir(c)}`
        : `PostgreSQL ${withoutPassword(c.databaseUrl)}`,
  };
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
