// Issue 11 item 1 through the filter pipeline (runFilter with fake ports, the real encryptor): a message that
// only looks already encrypted (readable text beside the ciphertext) reaches a keyed recipient encrypted, and real
// encrypted mail still reaches everyone unchanged.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { runFilter } from '../../src/filter/run-filter.js';
import { assertShapeEncrypted, cleartextShapes, protectedShapes } from '../helpers/cleartext-shapes.js';
import { fakeDeps, input, ok, userKey, type UserKey } from './fake-ports.js';

const signal = (): AbortSignal => AbortSignal.timeout(30_000);
const unscanned = (raw: Buffer) => ok(Buffer.from(raw)); // spamc hands the message back as it came

describe('filter: cleartext beside ciphertext is encrypted (issue 11)', () => {
  let alice: UserKey;
  before(async () => {
    alice = await userKey('alice@example.org');
  });
  for (const shape of cleartextShapes()) {
    it(`${shape.group}: ${shape.name}`, async () => {
      const { deps, calls } = fakeDeps({ spamc: unscanned, states: { 'alice@example.org': alice.state } });
      const outcome = await runFilter(input(Buffer.from(shape.raw, 'latin1'), ['alice@example.org']), deps, signal());
      assert.equal(outcome.kind, 'delivered');
      assert.deepEqual(
        outcome.recipients.map((r) => r.action),
        ['encrypted'],
      );
      assert.equal(calls.sendmail.length, 1);
      await assertShapeEncrypted(shape, calls.sendmail[0]!.raw, alice.privateArmored);
    });
  }
});

describe('filter: real encrypted mail still passes unchanged (issue 11)', () => {
  for (const shape of protectedShapes()) {
    it(`${shape.group}: ${shape.name}`, async () => {
      const { deps, calls } = fakeDeps({ spamc: unscanned });
      const raw = Buffer.from(shape.raw, 'latin1');
      const outcome = await runFilter(input(raw, ['a@example.org', 'b@example.org']), deps, signal());
      assert.equal(outcome.kind, 'delivered');
      assert.equal(calls.lookups.length, 0, 'the key store is not asked');
      assert.deepEqual(
        calls.sendmail.map((c) => c.raw.equals(raw)),
        [true],
      );
    });
  }
});
