// sendmail faults with the recording stand-in: missing, exit 75, exit 69, killed mid-read, hanging, exiting 0
// unread, and a later call failing after an earlier one succeeded. Documented: 75, and nothing queued by a failed
// call (the stand-in is killed, never handed an early EOF); a stand-in that hangs is killed at the deadline.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { alive, assertOutcome, runFilterCli, worldForSuite, tokenMessage, withLingerers } from './support.js';

const LINGERING_SENDMAIL = fileURLToPath(new URL('./bin/lingering-sendmail.sh', import.meta.url));

describe('sendmail faults', () => {
  const world = worldForSuite();

  test('sendmail missing → 75', async () => {
    const m = tokenMessage();
    const r = await runFilterCli({ world, input: m.raw, sendmail: '/nonexistent/sendmail' });
    assertOutcome(r, 75, [m.subjectToken, m.bodyToken]);
  });

  for (const code of [75, 69, 71, 1]) {
    test(`sendmail exits ${code} → 75 (never passed through)`, async () => {
      const m = tokenMessage();
      const r = await runFilterCli({ world, input: m.raw, env: { RECORD_MODE: 'exit', RECORD_EXIT: String(code) } });
      assertOutcome(r, 75, [m.subjectToken, m.bodyToken]);
      assert.equal(r.calls.length, 1);
    });
  }

  test('sendmail killed mid-read (1 MB message) → 75, nothing queued', async () => {
    const m = tokenMessage('x'.repeat(1024 * 1024));
    const r = await runFilterCli({ world, input: m.raw, env: { RECORD_MODE: 'die-mid-read', RECORD_AFTER: '65536' } });
    assertOutcome(r, 75, [m.subjectToken, m.bodyToken]);
    assert.equal(r.calls.length, 1);
    assert.equal(r.calls[0]?.exit, null, 'the stand-in died before finishing');
  });

  test('sendmail exits 0 without reading a 1 MB message → 75 (not taken as delivered)', async () => {
    const m = tokenMessage('y'.repeat(1024 * 1024));
    const r = await runFilterCli({ world, input: m.raw, env: { RECORD_MODE: 'exit0-unread' } });
    assert.equal(r.run.code, 75, r.run.output);
  });

  for (const mode of ['hang', 'hang-before-read'] as const) {
    test(`sendmail hangs (${mode}) → 75 at the deadline, and the hanging child is killed`, async () => {
      const m = tokenMessage(mode === 'hang-before-read' ? 'z'.repeat(2 * 1024 * 1024) : '');
      const r = await runFilterCli({ world, input: m.raw, env: { RECORD_MODE: mode }, deadlineMs: 3_000 });
      assertOutcome(r, 75, [m.subjectToken, m.bodyToken]);
      assert.ok(r.run.ms < 3_000 + 2_500, `gave up near the deadline (${r.run.ms} ms)`);
      const pid = r.calls[0]?.pid;
      assert.ok(pid !== undefined, 'the stand-in started');
      await sleep(200);
      assert.equal(alive(pid), false, 'no sendmail left running (it would queue on a late EOF)');
    });
  }

  test('second of two sendmail calls fails → 75; the first copy is already queued (duplicate on retry)', async () => {
    const m = tokenMessage();
    const r = await runFilterCli({
      world,
      input: m.raw,
      recipients: [world.alice, world.carol],
      env: { RECORD_MODE: 'exit', RECORD_FAIL_CALL: '2', RECORD_EXIT: '75' },
    });
    assert.equal(r.run.code, 75, r.run.output);
    assert.equal(r.calls.length, 2, 'one call per copy (encrypted for alice, as sent for carol)');
    // Documented limitation: pipe(8) has one status per invocation. With pgpipe_destination_recipient_limit = 1
    // every invocation makes exactly one sendmail call and this cannot happen.
    assert.equal(r.handoffs.filter((h) => h.accepted).length, 1);
  });

  // Issue 11 item 8: the exit status decides. A sendmail that exits 0 but leaves a process holding its stdout/stderr
  // must not make pgpipe wait for the deadline and defer a copy that is already queued (a duplicate on retry).
  for (const mode of ['after', 'before', 'stdout'] as const) {
    test(`sendmail exits 0 leaving a grandchild on its stdout/stderr (${mode}) → 0 at once, not at the deadline`, async () => {
      const m = tokenMessage();
      const {
        result: r,
        pids,
        stillAlive,
      } = await withLingerers((pidFile) =>
        runFilterCli({
          world,
          input: m.raw,
          sendmail: LINGERING_SENDMAIL,
          deadlineMs: 10_000,
          env: { LINGER_MODE: mode, LINGER_PID_FILE: pidFile },
        }),
      );
      assertOutcome(r, 0, [m.subjectToken, m.bodyToken]);
      assert.equal(r.verdict.ok && r.verdict.outcome, 'exit0-encrypted');
      assert.equal(r.handoffs.filter((h) => h.accepted).length, 1, 'queued once');
      assert.ok(r.run.ms < 5_000, `decided from the exit status, not the deadline (${r.run.ms} ms)`);
      assert.equal(pids.length, 1, 'the grandchild really was left behind');
      assert.deepEqual(stillAlive, [true], 'and was still holding the pipes when pgpipe finished');
    });
  }

  test('sendmail exits 75 leaving a grandchild → 75 at once; lingering on both of two calls → 0', async () => {
    const m = tokenMessage();
    const { result: failed } = await withLingerers((pidFile) =>
      runFilterCli({
        world,
        input: m.raw,
        sendmail: LINGERING_SENDMAIL,
        deadlineMs: 10_000,
        env: { RECORD_MODE: 'exit', RECORD_EXIT: '75', LINGER_PID_FILE: pidFile },
      }),
    );
    assertOutcome(failed, 75, [m.subjectToken, m.bodyToken]);
    assert.ok(failed.run.ms < 5_000, `${failed.run.ms} ms`);
    const { result: both } = await withLingerers((pidFile) =>
      runFilterCli({
        world,
        input: m.raw,
        recipients: [world.alice, world.carol],
        sendmail: LINGERING_SENDMAIL,
        deadlineMs: 10_000,
        env: { LINGER_PID_FILE: pidFile },
      }),
    );
    assertOutcome(both, 0, [m.subjectToken]);
    assert.equal(both.handoffs.filter((h) => h.accepted).length, 2);
    assert.ok(both.run.ms < 5_000, `${both.run.ms} ms`);
  });

  test('one recipient → exactly one sendmail call (so recipient_limit=1 makes delivery all-or-nothing)', async () => {
    const m = tokenMessage();
    const r = await runFilterCli({ world, input: m.raw, recipients: [world.carol] });
    assertOutcome(r, 0, [m.subjectToken]);
    assert.equal(r.calls.length, 1);
  });
});
