// A lock file beside the embedded store's data dir: PGlite is a single-process database, and two processes on one
// data dir corrupt it. Postfix runs one pgpipe per message, so concurrent opens wait their turn (bounded).
import { mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { temporary } from '../errors.js';

const POLL_MS = 25;

/** Takes `${dataDir}.lock` (O_EXCL, holds our pid); steals it from a dead pid. Returns the release function. */
export async function lockDataDir(dataDir: string, timeoutMs: number): Promise<() => void> {
  const path = `${dataDir}.lock`;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw temporary('db.unavailable', `embedded store: cannot create lock file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    const holder = Number.parseInt(safeRead(path), 10);
    const valid = Number.isInteger(holder) && holder > 0;
    // NOTE: a crashed holder leaves a stale lock: remove it and race again through O_EXCL. An unreadable pid is
    // only stale once it is old (the holder may be between create and write).
    if ((valid && !alive(holder)) || (!valid && ageMs(path) > 2_000)) tryUnlink(path);
    if (Date.now() >= deadline) {
      throw temporary('db.unavailable', `embedded store busy: locked by pid ${Number.isInteger(holder) ? holder : '?'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const onExit = () => tryUnlink(path);
  process.once('exit', onExit);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    process.removeListener('exit', onExit);
    tryUnlink(path);
  };
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true; // a second open in this process must wait too
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
