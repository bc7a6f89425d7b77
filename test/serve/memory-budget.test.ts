// The shared budget of bytes held in memory, its per-transaction reservations, and the DATA reader that keeps to
// them, to the size limit and to the deadline.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { MemoryBudget } from '../../src/serve/memory-budget.js';
import { receiveMessage } from '../../src/serve/receive-message.js';

describe('MemoryBudget and Reservation', () => {
  it('a transaction alone may go past the limit (else a message bigger than the budget waits until it expires)', () => {
    const budget = new MemoryBudget(100);
    const big = budget.open();
    assert.equal(big.ensure(500), true);
    assert.equal(budget.open().ensure(1), false, 'nobody else meanwhile');
    big.release();
    const a = budget.open();
    a.ensure(10);
    assert.equal(budget.open().ensure(500), false, 'not alone: refused');
  });

  it('reservations grow up to the limit and no further; release gives it all back once', () => {
    const budget = new MemoryBudget(100);
    const a = budget.open();
    const b = budget.open();
    assert.equal(a.ensure(60), true);
    assert.equal(b.ensure(41), false);
    assert.equal(b.bytes, 0, 'a refused growth changes nothing');
    assert.equal(b.ensure(40), true);
    assert.equal(a.ensure(50), true, 'already covered');
    assert.equal(budget.held, 100);
    a.release();
    a.release();
    assert.equal(budget.held, 40);
    assert.equal(b.ensure(100), true);
  });
});

function feed(chunks: Buffer[], end: 'end' | 'close' | 'never' = 'end'): PassThrough {
  const stream = new PassThrough();
  setImmediate(() => {
    for (const chunk of chunks) stream.write(chunk);
    if (end === 'end') stream.end();
    else if (end === 'close') stream.destroy();
  });
  return stream;
}

describe('receiveMessage', () => {
  it('returns the whole message and holds exactly its size', async () => {
    const budget = new MemoryBudget(1000);
    const got = await receiveMessage(feed([Buffer.from('abc'), Buffer.from('def')]), budget.open(), 0, 5000);
    assert.equal(got.kind === 'message' ? got.raw.toString() : got.kind, 'abcdef');
    assert.equal(budget.held, 6);
  });

  it('counts bytes against what MAIL FROM SIZE= reserved before growing', async () => {
    const budget = new MemoryBudget(1000);
    const prepaid = budget.open();
    prepaid.ensure(600);
    const got = await receiveMessage(feed([Buffer.alloc(300), Buffer.alloc(200)]), prepaid, 0, 5000);
    assert.equal(got.kind, 'message');
    assert.equal(budget.held, 600);
  });

  it('over the size limit: reads to the end, holds nothing', async () => {
    const budget = new MemoryBudget(1000);
    const got = await receiveMessage(feed([Buffer.alloc(300), Buffer.alloc(300)]), budget.open(), 500, 5000);
    assert.deepEqual(got, { kind: 'too-big', bytes: 600 });
    assert.equal(budget.held, 0);
  });

  it('over the budget (another message holds most of it): reads to the end, holds nothing', async () => {
    const budget = new MemoryBudget(1000);
    budget.open().ensure(900);
    const got = await receiveMessage(feed([Buffer.alloc(50), Buffer.alloc(100)]), budget.open(), 0, 5000);
    assert.deepEqual(got, { kind: 'over-budget', bytes: 150 });
    assert.equal(budget.held, 900);
  });

  it('a connection broken mid-DATA releases what it held', async () => {
    const budget = new MemoryBudget(1000);
    const got = await receiveMessage(feed([Buffer.alloc(100)], 'close'), budget.open(), 0, 5000);
    assert.equal(got.kind, 'broken');
    assert.equal(budget.held, 0);
  });

  it('a DATA that does not end within the deadline is given up, holding nothing', async () => {
    const budget = new MemoryBudget(1000);
    const started = Date.now();
    const got = await receiveMessage(feed([Buffer.alloc(100)], 'never'), budget.open(), 0, 200);
    assert.deepEqual(got, { kind: 'timed-out', bytes: 100 });
    assert.ok(Date.now() - started < 2000);
    assert.equal(budget.held, 0);
  });
});
