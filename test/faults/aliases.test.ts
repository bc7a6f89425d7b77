// Aliases through the real `pgpipe filter` with a real PostgreSQL and the recording sendmail (issue 11.2, 11.3):
// a keyed member never gets plaintext, a keyless member never a copy it cannot read, and a bare local-part alias
// applies only in the server's own domains. Each copy is judged by what its recipient can read.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { seedStore } from '../helpers/seed.js';
import { decryptWithGpg } from '../helpers/decrypt.js';
import { runFilterCli, tokenMessage, type FaultWorld } from './support.js';

const D = 'aliases.test';
const ALICE = `alice@${D}`;
const DAVE = `dave@${D}`;

describe('pgpipe filter: aliases on a real PostgreSQL', () => {
  let pg: PgCluster;
  let world: FaultWorld;
  let alice: TestKey;
  let dave: TestKey;
  before(async () => {
    pg = await startPostgres();
    [alice, dave] = await Promise.all([
      makeKey({ kind: 'curve25519', email: ALICE }),
      makeKey({ kind: 'curve25519', email: DAVE }),
    ]);
    const chain = Array.from({ length: 6 }, (_, i) => ({
      alias: `c${i}@${D}`,
      email: i === 5 ? ALICE : `c${i + 1}@${D}`,
    }));
    const users = [
      { email: ALICE, pgpkey: alice.publicArmored },
      { email: DAVE, pgpkey: dave.publicArmored },
    ];
    await seedStore({ databaseUrl: pg.url }, users, [
      { alias: `team@${D}`, email: ALICE },
      { alias: `team@${D}`, email: `carol@${D}` }, // carol: no users row
      { alias: `team@${D}`, email: `dave+team@${D}` },
      { alias: `team@${D}`, email: 'friend@outside.example' },
      { alias: `both@${D}`, email: ALICE },
      { alias: `both@${D}`, email: DAVE },
      { alias: 'alice57', email: ALICE }, // the tutorial's bare local-part form
      { alias: 'postmaster', email: ALICE },
      ...chain,
    ]);
    world = {
      pg,
      alice: { address: ALICE, privateKey: null },
      carol: { address: `carol@${D}`, privateKey: null },
      close: () => pg.stop(),
    };
  });
  after(async () => pg.stop());

  const run = (recipients: string[], flags: string[] = []) => {
    const message = tokenMessage();
    const oracleRecipients = recipients.map((address) => ({ address, privateKey: null }));
    const result = runFilterCli({ world, input: message.raw, recipients: oracleRecipients, flags });
    return { message, result };
  };
  const plaintext = (data: Buffer, token: string): boolean => data.includes(token);

  it('a mixed alias: each member its own copy, keyed ones encrypted to their key only, keyless as sent', async () => {
    const { message, result } = run([`team@${D}`]);
    const r = await result;
    assert.equal(r.run.code, 0, r.run.output);
    assert.match(r.run.output, /^2\.0\.0 pgpipe: 1 rcpt/);
    const by = new Map(r.handoffs.map((h) => [h.recipients.join(' '), h]));
    assert.deepEqual([...by.keys()].sort(), [ALICE, `carol@${D} friend@outside.example`, `dave+team@${D}`].sort());
    for (const [to, key] of [
      [ALICE, alice],
      [`dave+team@${D}`, dave],
    ] as const) {
      const copy = by.get(to)!;
      assert.ok(copy.accepted);
      const clear = plaintext(copy.data, message.bodyToken) || plaintext(copy.data, message.subjectToken);
      assert.ok(!clear, `no plaintext to ${to}`);
      assert.ok((await decryptWithGpg(copy.data, key.privateArmored)).includes(message.bodyToken));
    }
    await assert.rejects(decryptWithGpg(by.get(ALICE)!.data, dave.privateArmored), "alice's copy is hers alone");
    const keyless = by.get(`carol@${D} friend@outside.example`)!;
    assert.ok(plaintext(keyless.data, message.bodyToken), 'the keyless members can read their copy');
    assert.ok(r.handoffs.every((h) => h.sender === 'sender@example.org'));
  });

  it('the alias and one of its members in one run: that member gets one copy', async () => {
    const r = await run([`team@${D}`, ALICE]).result;
    assert.equal(r.run.code, 0, r.run.output);
    assert.deepEqual(
      r.handoffs.map((h) => h.recipients).filter((rs) => rs.includes(ALICE)),
      [[ALICE]],
    );
  });

  it('an alias whose members all have keys keeps one copy to the alias, readable by each', async () => {
    const { message, result } = run([`both@${D}`]);
    const r = await result;
    assert.equal(r.run.code, 0, r.run.output);
    assert.deepEqual(
      r.handoffs.map((h) => h.recipients),
      [[`both@${D}`]],
    );
    for (const key of [alice, dave]) {
      assert.ok((await decryptWithGpg(r.handoffs[0]!.data, key.privateArmored)).includes(message.bodyToken));
    }
  });

  it('--missing-key defer holds a mixed alias without naming its members', async () => {
    const r = await run([`team@${D}`], ['--missing-key', 'defer']).result;
    assert.equal(r.run.code, 75);
    assert.match(r.run.output, /^4\.7\.1 pgpipe: <team@aliases\.test>: an alias member has no OpenPGP key on file/);
    assert.doesNotMatch(r.run.output, /carol|friend|alice|dave/);
    assert.equal(r.handoffs.length, 0);
  });

  it('a chain longer than 5 hops is held, not delivered in clear to whoever is at its end', async () => {
    const r = await run([`c0@${D}`]).result;
    assert.equal(r.run.code, 75, r.run.output);
    assert.match(
      r.run.output,
      /^4\.7\.5 pgpipe: <c0@aliases\.test>: stored OpenPGP key unusable: alias chain longer than 5 hops/,
    );
    assert.equal(r.handoffs.length, 0);
    const ok = await run([`c1@${D}`]).result; // exactly 5 hops
    assert.equal(ok.run.code, 0, ok.run.output);
    assert.ok((await decryptWithGpg(ok.handoffs[0]!.data, alice.privateArmored)).length > 0);
  });

  const outsiders = [
    'alice57@gmail.com',
    'postmaster@elsewhere.example',
    'Postmaster+x@Other.Example',
    'alice57@sub.aliases.test',
  ];
  for (const outside of outsiders) {
    it(`a bare local-part alias does not apply outside the local domains: ${outside} leaves as sent`, async () => {
      const { message, result } = run([outside]);
      const r = await result;
      assert.equal(r.run.code, 0, r.run.output);
      assert.deepEqual(
        r.handoffs.map((h) => h.recipients),
        [[outside]],
      );
      assert.ok(plaintext(r.handoffs[0]!.data, message.bodyToken), 'the outside reader gets what it can read');
    });
  }

  for (const local of ['alice57@aliases.test', 'POSTMASTER@Aliases.Test', 'postmaster+abuse@aliases.test']) {
    it(`a bare local-part alias applies in a local domain: ${local} is encrypted to the user's key`, async () => {
      const { message, result } = run([local]);
      const r = await result;
      assert.equal(r.run.code, 0, r.run.output);
      assert.ok(!plaintext(r.handoffs[0]!.data, message.bodyToken));
      assert.ok((await decryptWithGpg(r.handoffs[0]!.data, alice.privateArmored)).includes(message.bodyToken));
    });
  }

  it('--local-domains (and PGPIPE_LOCAL_DOMAINS) add domains without users rows', async () => {
    const calls = [
      { flags: ['--local-domains', 'other.example, second.example'] },
      { env: { PGPIPE_LOCAL_DOMAINS: 'second.example other.example' } },
    ];
    for (const call of calls) {
      const message = tokenMessage();
      const recipients = [{ address: 'postmaster@Other.Example', privateKey: null }];
      const r = await runFilterCli({ world, input: message.raw, recipients, ...call });
      assert.equal(r.run.code, 0, r.run.output);
      assert.ok((await decryptWithGpg(r.handoffs[0]!.data, alice.privateArmored)).includes(message.bodyToken));
    }
  });
});
