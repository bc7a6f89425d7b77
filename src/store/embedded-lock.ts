// A lock file beside the embedded store's data dir: PGlite is a single-process database, and two processes on one
// data dir corrupt it. Postfix runs one pgpipe per message, so concurrent opens wait their turn (bounded).
// Must not remove a lock anyone alive holds: stale locks are taken over only under a takeover token (below).
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { temporary } from '../errors.js';

const POLL_MS = 25;
const UNREADABLE_STALE_MS = 2_000; // a lock file without a valid pid is stale only once this old
const MAX_TOKEN_DEPTH = 3; // token of a token of a token: each level needs a process killed mid-takeover

/** Takes `${dataDir}.lock` (holds our pid); takes it over from a dead pid. Returns the release function. */
export async function lockDataDir(dataDir: string, timeoutMs: number): Promise<() => void> {
  const path = `${dataDir}.lock`;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const mine = ownContent();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (createExclusive(path, mine)) break;
    const holder = safeRead(path);
    if (isStale(path, holder)) {
      takeOverStaleLock(path, holder);
      if (createExclusive(path, mine)) break;
    }
    if (Date.now() >= deadline) {
      const pid = Number.parseInt(holder, 10);
      throw temporary('db.unavailable', `embedded store busy: locked by pid ${Number.isInteger(pid) ? pid : '?'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const onExit = () => release();
  process.once('exit', onExit);
  let released = false;
  function release(): void {
    if (released) return;
    released = true;
    process.removeListener('exit', onExit);
    // Only our own lock: nobody can replace it while we live (see takeOverStaleLock), so this check is exact.
    if (safeRead(path) === mine) tryUnlink(path);
  }
  return release;
}

/**
 * Removes `file` only if it still holds `seen`, a dead (or unreadable and old) owner. Exported for tests.
 * Atomic because removal happens only under `${file}.takeover`, created exclusively: while we hold the token nobody
 * else may unlink `file`, its dead owner cannot release it, and a new lock can only be created once `file` is gone.
 * So the content re-read under the token is still the content when we unlink: a process that judged the lock
 * stale from an older read can never delete a fresh lock. A token left by a process killed mid-takeover is itself
 * a stale lock and is taken over the same way (bounded depth).
 */
export function takeOverStaleLock(file: string, seen: string, depth = 0): void {
  const token = `${file}.takeover`;
  if (!createExclusive(token, ownContent())) {
    const tokenHolder = safeRead(token);
    if (depth < MAX_TOKEN_DEPTH && isStale(token, tokenHolder)) takeOverStaleLock(token, tokenHolder, depth + 1);
    return; // someone else is taking over; the caller polls again
  }
  try {
    const now = safeRead(file);
    if (now === seen && isStale(file, now)) tryUnlink(file); // re-check of the owner under the token
  } finally {
    tryUnlink(token); // ours: a live holder's token is never judged stale, so nobody replaced it
  }
}

/**
 * Creates `file` holding `content` only if it does not exist, and never visible half-written: the content goes
 * to a private temp file first, then link(2) publishes it atomically (EEXIST if taken). False when taken.
 */
function createExclusive(file: string, content: string): boolean {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, content, { mode: 0o600 });
    try {
      linkSync(temp, file);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
      // A file system without hard links: O_EXCL create (may be seen empty for a moment: the age rule covers it).
      writeFileSync(file, content, { flag: 'wx', mode: 0o600 });
      return true;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    throw temporary('db.unavailable', `embedded store: cannot create lock file (${code ?? 'error'})`);
  } finally {
    tryUnlink(temp);
  }
}

const ownContent = (): string => `${process.pid}\n`;

function isStale(file: string, content: string): boolean {
  const pid = Number.parseInt(content, 10);
  if (Number.isInteger(pid) && pid > 0) return !alive(pid);
  return ageMs(file) > UNREADABLE_STALE_MS; // 0 when the file is gone
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
