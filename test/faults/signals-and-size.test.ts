// Termination signals mid-message, a sender that stalls, and messages over the size limits (including a large one
// under a small heap). Documented: signals and stalls → 75 with children killed; over message_size_limit →
// --oversize reject (69, 5.3.4) or defer (75); never a crash code Postfix would bounce.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { recordDir } from '../helpers/recording-sendmail.js';
import { alive, assertOutcome, runFilterCli, worldForSuite, tokenMessage } from './support.js';

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached');
    await sleep(25);
  }
}

describe('signals, stalls and size limits', () => {
  const world = worldForSuite();

  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    test(`${signal} while sendmail is reading → 75, sendmail killed, nothing queued`, async () => {
      const rec = recordDir();
      try {
        const m = tokenMessage();
        let pgpipePid = 0;
        const running = runFilterCli({
          world,
          input: m.raw,
          env: { RECORD_MODE: 'hang' },
          recordDir: rec.dir,
          deadlineMs: 30_000,
          onSpawn: (pid) => {
            pgpipePid = pid;
          },
        });
        await waitFor(() => readdirSync(rec.dir).some((n) => n.endsWith('.start.json')));
        await sleep(100);
        process.kill(pgpipePid, signal);
        const r = await running;
        assertOutcome(r, 75, [m.subjectToken, m.bodyToken]);
        assert.match(r.run.output, new RegExp(signal));
        await sleep(200);
        assert.equal(alive(r.calls[0]?.pid ?? 0), false, 'sendmail stand-in killed');
      } finally {
        rec.cleanup();
      }
    });
  }

  test('SIGTERM while the message is still arriving (stdin open) → 75', async () => {
    const m = tokenMessage();
    const r = await runFilterCli({
      world,
      input: m.raw,
      holdStdin: true,
      deadlineMs: 30_000,
      onSpawn: (pid) => void setTimeout(() => process.kill(pid, 'SIGTERM'), 700),
    });
    assertOutcome(r, 75, [m.subjectToken, m.bodyToken]);
    assert.equal(r.calls.length, 0);
  });

  test('sender stalls mid-message (stdin never closes) → 75 at the deadline', async () => {
    const m = tokenMessage();
    const r = await runFilterCli({ world, input: m.raw, holdStdin: true, deadlineMs: 2_000 });
    assertOutcome(r, 75, [m.subjectToken, m.bodyToken]);
    assert.ok(r.run.ms < 2_000 + 2_500, `near the deadline (${r.run.ms} ms)`);
  });

  test('encrypted copy over --message-size-limit: --oversize reject → 69 (5.3.4), defer → 75 (4.3.4)', async () => {
    const m = tokenMessage('a'.repeat(200_000));
    const rejected = await runFilterCli({ world, input: m.raw, flags: ['--message-size-limit', '150000'] });
    assertOutcome(rejected, 69, [m.subjectToken, m.bodyToken]);
    assert.match(rejected.run.output, /^5\.3\.4 /);
    const deferred = await runFilterCli({
      world,
      input: m.raw,
      flags: ['--message-size-limit', '150000', '--oversize', 'defer'],
    });
    assertOutcome(deferred, 75, [m.subjectToken, m.bodyToken]);
    assert.match(deferred.run.output, /^4\.3\.4 /);
  });

  test(
    '48 MB message, default limits (10240000): rejected by policy (69), never a crash',
    { timeout: 120_000 },
    async () => {
      const m = tokenMessage('b'.repeat(48 * 1024 * 1024));
      const r = await runFilterCli({ world, input: m.raw, deadlineMs: 60_000 });
      assertOutcome(r, 69, [m.subjectToken, m.bodyToken]);
    },
  );

  test(
    '48 MB message under a 96 MB V8 heap (NODE_OPTIONS): 69 or 75, or killed by a signal (Postfix defers)',
    { timeout: 120_000 },
    async () => {
      const m = tokenMessage('c'.repeat(48 * 1024 * 1024));
      const r = await runFilterCli({
        world,
        input: m.raw,
        deadlineMs: 60_000,
        env: { NODE_OPTIONS: '--max-old-space-size=96' },
      });
      if (process.env.FAULTS_VERBOSE !== undefined)
        console.log(`    code ${r.run.code} signal ${r.run.signal} ${r.run.ms} ms: ${r.run.output.slice(0, 200)}`);
      assert.equal(r.run.timedOut, false);
      assert.ok(
        r.run.signal !== null || r.run.code === 69 || r.run.code === 75,
        `code ${r.run.code}: ${r.run.output.slice(0, 200)}`,
      );
      assert.equal(r.handoffs.filter((h) => h.accepted).length, 0);
    },
  );
});
