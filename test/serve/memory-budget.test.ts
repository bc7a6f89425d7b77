// The shared budget of bytes held in memory, and the DATA reader that keeps to it and to the size limit.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { MemoryBudget } from '../../src/serve/memory-budget.js';
import { receiveMessage } from '../../src/serve/receive-message.js';

describe('MemoryBudget', () => {
  it('reserves up to the limit and no further; releases give room back', () => {
    const budget = new MemoryBudget(100);
    assert.equal(budget.tryReserve(60), true);
    assert.equal(budget.tryReserve(41), false);
    assert.equal(budget.tryReserve(40), true);
    assert.equal(budget.held, 100);
    budget.release(60);
    assert.equal(budget.fits(60), true);
    assert.equal(budget.fits(61), false);
  });
});

function feed(chunks: Buffer[], end: 'end' | 'close' = 'end'): PassThrough {
  const stream = new PassThrough();
  setImmediate(() => {
    for (const chunk of chunks) stream.write(chunk);
    if (end === 'end') stream.end();
    else stream.destroy();
  });
  return stream;
}

describe('receiveMessage', () => {
  it('returns the whole message and holds exactly its size', async () => {
    const budget = new MemoryBudget(1000);
    const got = await receiveMessage(feed([Buffer.from('abc'), Buffer.from('def')]), budget, 0);
    assert.equal(got.kind, 'message');
    assert.equal(got.kind === 'message' ? got.raw.toString() : '', 'abcdef');
    assert.equal(budget.held, 6);
  });

  it('over the size limit: reads to the end, holds nothing', async () => {
    const budget = new MemoryBudget(1000);
    const got = await receiveMessage(feed([Buffer.alloc(300), Buffer.alloc(300)]), budget, 500);
    assert.deepEqual(got, { kind: 'too-big', bytes: 600 });
    assert.equal(budget.held, 0);
  });

  it('over the budget (another message holds most of it): reads to the end, holds nothing', async () => {
    const budget = new MemoryBudget(1000);
    budget.tryReserve(900);
    const got = await receiveMessage(feed([Buffer.alloc(50), Buffer.alloc(100)]), budget, 0);
    assert.deepEqual(got, { kind: 'over-budget', bytes: 150 });
    assert.equal(budget.held, 900);
  });

  it('a connection broken mid-DATA releases what it held', async () => {
    const budget = new MemoryBudget(1000);
    const got = await receiveMessage(feed([Buffer.alloc(100)], 'close'), budget, 0);
    assert.equal(got.kind, 'broken');
    assert.equal(budget.held, 0);
  });
});
