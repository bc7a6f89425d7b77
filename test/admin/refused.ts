// The one assertion every admin refusal test makes: the write fails with this code and a one-line reason, and the
// tables are exactly as they were.
import assert from 'node:assert/strict';
import { isPgpipeError, type FailureCode } from '../../src/errors.js';
import type { StoreContext } from './stores.js';

export async function refused(
  store: StoreContext,
  action: () => Promise<unknown>,
  code: FailureCode,
  reason: RegExp,
): Promise<void> {
  const before = await store.dump();
  await assert.rejects(action, (error) => {
    assert.ok(isPgpipeError(error), String(error));
    assert.equal(error.code, code);
    assert.match(error.message, reason);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
  assert.equal(await store.dump(), before, 'the tables changed although the write was refused');
}
