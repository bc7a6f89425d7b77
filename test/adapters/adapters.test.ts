// The real child-process adapters against fixture executables: argv, stdin, and above all that a cancelled
// sendmail is killed rather than handed an EOF (which would queue a truncated message).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { killLiveChildren, runChild } from '../../src/adapters/run-child.js';
import { createSendmail } from '../../src/adapters/sendmail.js';
import { createSpamc } from '../../src/adapters/spamc.js';
import { readRecords, RECORDING_SENDMAIL } from '../helpers/recording-sendmail.js';

const bin = (name: string): string => fileURLToPath(new URL(`../fixtures/bin/${name}`, import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'pgpipe-adapters-'));
after(() => rmSync(out, { recursive: true, force: true }));
process.env.FAKE_OUT_DIR = out;
process.env.RECORD_DIR = out;

/** The copies sendmail read to EOF (what it would have queued). */
const records = (): { args: readonly string[]; input: Buffer }[] =>
  readRecords(out).flatMap((c) => (c.data === null ? [] : [{ args: c.argv, input: c.data }]));
const clear = (): void => {
  for (const f of readdirSync(out)) rmSync(join(out, f));
};
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const startedPids = (): number[] => readRecords(out).map((c) => c.pid);

describe('sendmail adapter', () => {
  it('passes -G -i -f SENDER -- RECIPIENTS and the exact bytes on a pipe', async () => {
    clear();
    process.env.RECORD_MODE = 'ok';
    const raw = Buffer.from([0x46, 0x3a, 0x20, 0x00, 0xff, 0x0d, 0x0a, 0x0a, 0x2e, 0x0a]);
    const result = await createSendmail({ sendmailPath: RECORDING_SENDMAIL }).send(
      raw,
      { sender: '', recipients: ['-x@y'] },
      AbortSignal.timeout(10_000),
    );
    assert.deepEqual([result.exitCode, result.failure], [0, null]);
    assert.deepEqual(
      records().map((r) => [r.args, r.input.equals(raw)]),
      [[['-G', '-i', '-f', '', '--', '-x@y'], true]],
    );
  });

  it('reports its exit status and signals without interpreting them', async () => {
    process.env.RECORD_MODE = 'exit:75';
    const sendmail = createSendmail({ sendmailPath: RECORDING_SENDMAIL });
    assert.equal(
      (await sendmail.send(Buffer.from('x\n'), { sender: 's', recipients: ['r'] }, AbortSignal.timeout(10_000)))
        .exitCode,
      75,
    );
    process.env.RECORD_MODE = 'signal:SIGSEGV';
    const crashed = await sendmail.send(
      Buffer.from('x\n'),
      { sender: 's', recipients: ['r'] },
      AbortSignal.timeout(10_000),
    );
    assert.deepEqual([crashed.exitCode, crashed.signal], [null, 'SIGSEGV']);
  });

  it('cancelled while it is still reading: killed with SIGKILL, and it never saw EOF (nothing queued)', async () => {
    clear();
    process.env.RECORD_MODE = 'slow';
    const raw = Buffer.alloc(8 * 1024 * 1024, 0x61); // far more than a pipe buffer: the write is still going on
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const result = await createSendmail({ sendmailPath: RECORDING_SENDMAIL }).send(
      raw,
      { sender: 's', recipients: ['r'] },
      controller.signal,
    );
    assert.equal(result.failure, 'cancelled');
    assert.equal(result.signal, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 3500)); // longer than its pause: a survivor would now write its record
    assert.deepEqual(records(), []);
    assert.ok(startedPids().every((pid) => !alive(pid)));
  });

  it('killLiveChildren (the exit boundary) SIGKILLs a running child', async () => {
    process.env.RECORD_MODE = 'hang';
    const pending = createSendmail({ sendmailPath: RECORDING_SENDMAIL }).send(
      Buffer.from('x\n'),
      { sender: 's', recipients: ['r'] },
      AbortSignal.timeout(30_000),
    );
    await new Promise((r) => setTimeout(r, 300));
    killLiveChildren();
    const result = await pending;
    assert.equal(result.signal, 'SIGKILL');
  });

  it('exits 0 before reading all input → failure io (must not count as success)', async () => {
    process.env.RECORD_MODE = 'exit0-early';
    const result = await createSendmail({ sendmailPath: RECORDING_SENDMAIL }).send(
      Buffer.alloc(4 * 1024 * 1024, 0x61),
      { sender: 's', recipients: ['r'] },
      AbortSignal.timeout(10_000),
    );
    assert.equal(result.failure, 'io');
  });

  // Issue 11 item 8: a child that exits while a descendant still holds its stdout/stderr is judged by its exit
  // status at once; its pipes get only a short grace, and the unfinished output is reported.
  for (const [name, script, stdout, outputEnded] of [
    ['exits 0, a sleeping grandchild holds stdout and stderr', 'printf queued; sleep 30 &', 'queued', false],
    ['exits 0, the grandchild holds stderr only', 'printf queued; sleep 30 >/dev/null &', 'queued', true],
    ['exits 0 after the grandchild wrote part of its output', '(printf part; sleep 30) &', 'part', false],
  ] as const) {
    it(`${name} → exit 0, no failure, within the grace (outputEnded ${outputEnded})`, async () => {
      const started = Date.now();
      const result = await runChild(
        '/bin/sh',
        ['-c', `cat >/dev/null; ${script} echo $! > ${join(out, 'lingerer')}`],
        Buffer.alloc(256 * 1024, 0x61),
        { signal: AbortSignal.timeout(20_000) },
      );
      const pid = Number(readFileSync(join(out, 'lingerer'), 'utf8'));
      try {
        assert.deepEqual([result.exitCode, result.failure, result.outputEnded], [0, null, outputEnded]);
        if (outputEnded) assert.equal(result.stdout.toString(), stdout);
        else assert.ok(stdout.startsWith(result.stdout.toString()) || result.stdout.toString() === stdout);
        assert.ok(Date.now() - started < 3_000, `${Date.now() - started} ms`);
        assert.ok(alive(pid), 'the grandchild is left alone, only its pipes are let go');
      } finally {
        process.kill(pid, 'SIGKILL');
      }
    });
  }

  it('exits 75 while a grandchild holds its pipes → 75 at once', async () => {
    const started = Date.now();
    const script = `cat >/dev/null; sleep 30 & echo $! > ${join(out, 'lingerer')}; exit 75`;
    const result = await runChild('/bin/sh', ['-c', script], Buffer.from('x\n'), {
      signal: AbortSignal.timeout(20_000),
    });
    process.kill(Number(readFileSync(join(out, 'lingerer'), 'utf8')), 'SIGKILL');
    assert.deepEqual([result.exitCode, result.failure], [75, null]);
    assert.ok(Date.now() - started < 3_000);
  });

  it('missing executable → failure spawn', async () => {
    const result = await runChild('/nonexistent/sendmail', [], Buffer.from('x'), { signal: AbortSignal.timeout(5000) });
    assert.deepEqual([result.exitCode, result.failure], [null, 'spawn']);
  });
});

describe('spamc adapter', () => {
  it('runs spamc with the operator args, then -x -t N, message on stdin, output captured', async () => {
    clear();
    process.env.FAKE_SPAMC_MODE = 'scan';
    const spamc = createSpamc({ spamcPath: bin('fake-spamc.js'), spamcArgs: ['-d', '127.0.0.1'] });
    const result = await spamc.run(Buffer.from('From: a\n\nb\n'), 7, AbortSignal.timeout(10_000));
    assert.equal(result.exitCode, 0);
    assert.match(result.stdout.toString(), /^X-Spam-Checker-Version: .*\n[\s\S]*From: a\n\nb\n$/);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'spamc-args'), 'utf8')), ['-d', '127.0.0.1', '-x', '-t', '7']);
  });

  it('a spamc that hangs past -t is stopped by our own backstop → failure timeout', async () => {
    process.env.FAKE_SPAMC_MODE = 'hang';
    const result = await createSpamc({ spamcPath: bin('fake-spamc.js'), spamcArgs: [] }).run(
      Buffer.from('x\n'),
      1,
      AbortSignal.timeout(30_000),
    );
    assert.equal(result.failure, 'timeout');
  });
});

describe('syslog adapter', () => {
  it('hands the line to logger on stdin (never argv), tagged pgpipe, facility mail', async () => {
    clear();
    const { writeSyslog } = await import('../../src/adapters/syslog.js');
    await writeSyslog('queue_id=ABC status=sent rcpts=1', bin('fake-logger.js'));
    const record = JSON.parse(readFileSync(join(out, 'logger'), 'utf8')) as { args: string[]; input: string };
    assert.deepEqual(record.args.slice(0, 4), ['-t', 'pgpipe', '-p', 'mail.info']);
    assert.equal(record.input, 'queue_id=ABC status=sent rcpts=1\n');
  });

  it('a missing logger is swallowed (logging never changes what happens to the mail)', async () => {
    const { writeSyslog } = await import('../../src/adapters/syslog.js');
    await writeSyslog('x', '/nonexistent/logger');
  });
});
