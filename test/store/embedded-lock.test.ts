// The embedded store's lock file: a stale lock (dead owner) is taken over atomically, so processes racing for it
// never hold it together (review #13).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPgpipeError } from '../../src/errors.js';
import { lockDataDir, takeOverStaleLock } from '../../src/store/embedded-lock.js';

const LOCK_TS = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/store/embedded-lock.ts');

const deadPid = (): number =>
  Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());

describe('embedded store lock', () => {
  let dir: string;
  let n = 0;
  const fresh = () => join(dir, `db${(n += 1)}`);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pgpipe-lock-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('never removes a lock that a live process took after the caller judged it stale', () => {
    const lock = `${fresh()}.lock`;
    const stale = `${deadPid()}\n`;
    const live = spawn('sleep', ['30']);
    try {
      // The interleaving of the old race: we read the dead owner, then someone else replaced the lock.
      writeFileSync(lock, `${live.pid}\n`);
      takeOverStaleLock(lock, stale);
      assert.equal(readFileSync(lock, 'utf8'), `${live.pid}\n`);
      // Also when the live owner wrote the very same file name a moment ago with the stale pid gone.
      writeFileSync(lock, stale);
      takeOverStaleLock(lock, stale);
      assert.ok(!existsSync(lock), 'the stale lock itself is removed');
      assert.ok(!existsSync(`${lock}.takeover`), 'the takeover token is released');
    } finally {
      live.kill();
    }
  });

  it('waits while another live process holds the takeover token', async () => {
    const dataDir = fresh();
    const live = spawn('sleep', ['30']);
    try {
      writeFileSync(`${dataDir}.lock`, `${deadPid()}\n`);
      writeFileSync(`${dataDir}.lock.takeover`, `${live.pid}\n`);
      const error = await lockDataDir(dataDir, 150).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(isPgpipeError(error) && error.code === 'db.unavailable', String(error));
    } finally {
      live.kill();
    }
  });

  it('takes over through a token left by a process killed mid-takeover', async () => {
    const dataDir = fresh();
    writeFileSync(`${dataDir}.lock`, `${deadPid()}\n`);
    writeFileSync(`${dataDir}.lock.takeover`, `${deadPid()}\n`);
    const release = await lockDataDir(dataDir, 2000);
    assert.equal(readFileSync(`${dataDir}.lock`, 'utf8'), `${process.pid}\n`);
    assert.ok(!existsSync(`${dataDir}.lock.takeover`));
    release();
    assert.ok(!existsSync(`${dataDir}.lock`));
  });

  it('lets exactly one of many racing processes hold a stale lock at a time', async () => {
    // Each child takes the lock, checks it is alone (an O_EXCL marker), then dies by SIGKILL still holding it:
    // every handover is a fresh stale lock that all remaining children race for.
    const dataDir = fresh();
    const [go, marker, log, ready] = ['go', 'inside', 'log', 'ready'].map((name) => `${dataDir}.${name}`) as [
      string,
      string,
      string,
      string,
    ];
    writeFileSync(`${dataDir}.lock`, `${deadPid()}\n`);
    const script = `
      import { lockDataDir } from ${JSON.stringify(LOCK_TS)};
      import { appendFileSync, closeSync, existsSync, openSync, unlinkSync } from 'node:fs';
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      appendFileSync(${JSON.stringify(ready)}, 'x');
      while (!existsSync(${JSON.stringify(go)})) await sleep(2);
      await lockDataDir(${JSON.stringify(dataDir)}, 60_000);
      let alone = true;
      try { closeSync(openSync(${JSON.stringify(marker)}, 'wx')); } catch { alone = false; }
      appendFileSync(${JSON.stringify(log)}, (alone ? 'alone ' : 'OVERLAP ') + process.pid + '\\n');
      await sleep(30);
      if (alone) unlinkSync(${JSON.stringify(marker)});
      process.kill(process.pid, 'SIGKILL');`;
    const COUNT = 12;
    const children = Array.from({ length: COUNT }, () =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    const stderr: string[] = [];
    const exits = children.map(
      (child) =>
        new Promise<string | null>((done) => {
          child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
          child.on('exit', (_code, signal) => done(signal));
        }),
    );
    // Start together once every child is waiting on the go file (tsx start-up is slow and uneven).
    const readyCount = () => (existsSync(ready) ? readFileSync(ready, 'utf8').length : 0);
    while (readyCount() < COUNT && children.every((c) => c.exitCode === null && c.signalCode === null)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    writeFileSync(go, '');
    const signals = await Promise.all(exits);
    assert.deepEqual(signals, Array(COUNT).fill('SIGKILL'), stderr.join('').slice(0, 500));
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(lines.length, COUNT);
    assert.deepEqual(
      lines.filter((l) => !l.startsWith('alone ')),
      [],
      'two processes held the lock together',
    );
  });
});
