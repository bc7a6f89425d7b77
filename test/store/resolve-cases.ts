// The resolveRecipients table, written once and run against both stores (real PostgreSQL and embedded PGlite).
// Seeds the tutorial's tables through the Db port itself (parameterised), then asserts records and table health.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/store/types.js';
import { seedDb } from '../helpers/seed.js';
import { expandRecipients, MAX_ALIAS_HOPS, resolveRecipients } from '../../src/store/resolve-recipients.js';

const TUTORIAL_USER = 'astronaut57@supersecure.mydomain.net';

const USERS: [email: string, pgpkey: string][] = [
  [TUTORIAL_USER, 'KEY-astronaut'],
  ['bob@example.org', 'KEY-bob'],
  ['carol@example.org', 'KEY-carol'],
  ['dup@example.org', 'KEY-dup-1'],
  ['dup@example.org', 'KEY-dup-2'],
  ['JÖRG@BÜCHER.example', 'KEY-joerg'],
  ["o'brien@example.org", 'KEY-obrien'],
  ['"quoted local"@example.org', 'KEY-quoted'],
  ['-leading@example.org', 'KEY-leading'],
  ['chain-end@example.org', 'KEY-chain'],
  ['Mixed.Case@Example.ORG', 'KEY-mixed'],
];

const CHAIN = Array.from({ length: MAX_ALIAS_HOPS + 1 }, (_, i) => `hop${i}@example.org`);

const ALIASES: [alias: string, email: string][] = [
  ['astronaut57', TUTORIAL_USER], // the tutorial's own INSERT: a bare local part
  ['info@example.org', 'bob@example.org'],
  ['carol@example.org', 'bob@example.org'], // a users row for carol exists and must win
  ['ghost@example.org', 'nobody@example.org'], // target without a users row
  ['loop1@example.org', 'loop2@example.org'],
  ['loop2@example.org', 'loop1@example.org'],
  ['selfloop@example.org', 'selfloop@example.org'],
  ['UPPER-ALIAS@EXAMPLE.ORG', 'bob@example.org'],
  // Several rows for one alias (a Postfix alias with several members): every member gets the message.
  ['team@example.org', 'bob@example.org'],
  ['team@example.org', 'carol@example.org'], // carol's users row wins over her alias row
  ['crew', 'team@example.org'], // nested, bare local part; bob is reached twice but counted once
  ['crew', 'dup@example.org'],
  ['crew', 'bob@example.org'],
  ['mixed@example.org', 'bob@example.org'],
  ['mixed@example.org', 'nobody@example.org'], // a member without a users row
  ['wide@example.org', 'bob@example.org'],
  ['wide@example.org', 'hop0@example.org'], // a member beyond the hop limit
  // hop0 → hop1 → … → hop5 → chain-end: hop1 reaches the user in exactly MAX_ALIAS_HOPS hops, hop0 needs one more.
  ...CHAIN.map((from, i): [string, string] => [from, CHAIN[i + 1] ?? 'chain-end@example.org']),
  // Issue 11.3: bare local parts apply only to the server's own domains (those of users rows, and local_domains).
  ['postmaster', 'bob@example.org'],
  ['info@aliasonly.example', 'bob@example.org'], // a full-address alias does not make its domain local
  ['fwd@example.org', 'astronaut57@gmail.com'], // an outside target must not be resolved through the bare alias
  // Issue 11.2: a chain of several members, an extension target, and a loop through a member.
  ['squad@example.org', 'crew+squad@example.org'],
  ['squad@example.org', 'outsider@elsewhere.example'],
  ['ring1@example.org', 'bob@example.org'],
  ['ring1@example.org', 'ring2@example.org'],
  ['ring2@example.org', 'ring1@example.org'],
  ['ring2@example.org', 'nobody@example.org'],
];

/** Counts round trips so "batched" is asserted, not assumed. */
function counting(db: Db): { db: Db; count(): number } {
  let n = 0;
  const wrapped: Db = {
    kind: db.kind,
    query: (sql, params) => {
      n += 1;
      return db.query(sql, params);
    },
    transaction: (fn) => db.transaction(fn),
    close: () => db.close(),
  };
  return { db: wrapped, count: () => n };
}

const seed = (db: Db, users: [string, string][], aliases: [string, string][]): Promise<void> =>
  seedDb(
    db,
    users.map(([email, pgpkey]) => ({ email, pgpkey })),
    aliases.map(([alias, email]) => ({ alias, email })),
  );

async function tableCounts(db: Db): Promise<{ users: number; aliases: number }> {
  const { rows } = await db.query<{ users: string | number; aliases: string | number }>(
    'SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM aliases) AS aliases',
  );
  return { users: Number(rows[0]?.users), aliases: Number(rows[0]?.aliases) };
}

export function defineResolveCases(name: string, open: () => Promise<{ db: Db; close(): Promise<void> }>): void {
  describe(`resolveRecipients on ${name}`, () => {
    let db: Db;
    let close: () => Promise<void>;
    const one = async (address: string, delimiter = '+', localDomains: string[] = []) => {
      const [record] = await resolveRecipients(db, [address], { delimiter, localDomains });
      assert.ok(record);
      return record;
    };

    before(async () => {
      ({ db, close } = await open());
      await seed(db, USERS, ALIASES);
    });
    after(async () => close());

    it('matches users.email exactly, ignoring case', async () => {
      assert.deepEqual(await one(TUTORIAL_USER.toUpperCase()), {
        address: TUTORIAL_USER.toUpperCase(),
        user: TUTORIAL_USER,
        via: 'user',
        pgpkey: 'KEY-astronaut',
      });
      assert.equal((await one('mixed.case@example.org')).user, 'Mixed.Case@Example.ORG');
    });

    it('strips a +extension, with a configurable delimiter set', async () => {
      assert.equal((await one('bob+lists@example.org')).pgpkey, 'KEY-bob');
      assert.equal((await one('bob-lists@example.org', '+-')).pgpkey, 'KEY-bob');
      assert.equal((await one('bob-lists@example.org', '+')).user, null);
      assert.equal((await one('bob+lists@example.org', '')).user, null, "'' disables stripping");
    });

    it('follows a full-address alias (either case)', async () => {
      assert.deepEqual(await one('Info@Example.org'), {
        address: 'Info@Example.org',
        user: 'bob@example.org',
        via: 'alias',
        pgpkey: 'KEY-bob',
      });
      assert.equal((await one('upper-alias@example.org')).pgpkey, 'KEY-bob');
      assert.equal((await one('info+x@example.org')).pgpkey, 'KEY-bob', 'stripped form of an alias');
    });

    it("follows the tutorial's bare local-part alias", async () => {
      // other.example and elsewhere.example are made local by the local_domains setting (issue 11.3).
      const record = await one('astronaut57@other.example', '+', ['other.example']);
      assert.deepEqual(record, {
        address: 'astronaut57@other.example',
        user: TUTORIAL_USER,
        via: 'alias',
        pgpkey: 'KEY-astronaut',
      });
      assert.equal((await one('Astronaut57+tag@elsewhere.example', '+', ['ELSEWHERE.example'])).user, TUTORIAL_USER);
      assert.equal((await one('astronaut57@example.org')).user, TUTORIAL_USER, 'a domain of the users rows is local');
    });

    it('prefers a users row over an alias row for the same address', async () => {
      assert.deepEqual(await one('carol@example.org'), {
        address: 'carol@example.org',
        user: 'carol@example.org',
        via: 'user',
        pgpkey: 'KEY-carol',
      });
    });

    it(`follows alias chains up to ${MAX_ALIAS_HOPS} hops and stops after`, async () => {
      assert.equal((await one('hop1@example.org')).pgpkey, 'KEY-chain');
      // Beyond the limit the chain may reach anybody: marked, so no one's key (and no plaintext) is assumed.
      assert.deepEqual(await one('hop0@example.org'), {
        address: 'hop0@example.org',
        user: null,
        via: 'alias',
        pgpkey: null,
        unresolved: 'hop-limit',
      });
    });

    it('ends alias loops without a user', async () => {
      for (const address of ['loop1@example.org', 'selfloop@example.org']) {
        const counter = counting(db);
        const [record] = await resolveRecipients(counter.db, [address], { delimiter: '+' });
        assert.deepEqual(record, { address, user: null, via: 'alias', pgpkey: null });
        assert.ok(counter.count() <= MAX_ALIAS_HOPS + 1, `bounded round trips (${counter.count()})`);
      }
    });

    it('reports an alias whose target has no users row as alias without key', async () => {
      assert.deepEqual(await one('ghost@example.org'), {
        address: 'ghost@example.org',
        user: null,
        via: 'alias',
        pgpkey: null,
      });
    });

    it('encrypts an alias with several targets to every target (review #5)', async () => {
      assert.deepEqual(await one('Team@example.org'), {
        address: 'Team@example.org',
        user: 'bob@example.org',
        via: 'alias',
        pgpkey: 'KEY-bob\nKEY-carol',
        targets: [
          { address: 'bob@example.org', user: 'bob@example.org', pgpkey: 'KEY-bob' },
          { address: 'carol@example.org', user: 'carol@example.org', pgpkey: 'KEY-carol' },
        ],
      });
      const crew = await one('crew+x@example.net', '+', ['example.net']);
      assert.equal(crew.user, 'bob@example.org');
      assert.equal(crew.pgpkey, 'KEY-bob\nKEY-dup-1\nKEY-dup-2\nKEY-carol');
      assert.deepEqual(
        crew.targets?.map((t) => t.user),
        ['bob@example.org', 'dup@example.org', 'carol@example.org'],
      );
    });

    it('lists a target without a users row (or beyond the hop limit) so the record is not treated as covered', async () => {
      const mixed = await one('mixed@example.org');
      assert.deepEqual([mixed.user, mixed.pgpkey], ['bob@example.org', 'KEY-bob']);
      assert.deepEqual(mixed.targets, [
        { address: 'bob@example.org', user: 'bob@example.org', pgpkey: 'KEY-bob' },
        { address: 'nobody@example.org', user: null, pgpkey: null },
      ]);
      const wide = await one('wide@example.org');
      assert.equal(wide.targets?.length, 2);
      assert.deepEqual([wide.targets?.[1]?.user, wide.targets?.[1]?.pgpkey], [null, null]);
    });

    it('applies a bare local part only to local domains (issue 11.3)', async () => {
      const none = { user: null, via: null, pgpkey: null };
      for (const address of [
        'astronaut57@gmail.com',
        'Astronaut57+tag@elsewhere.example',
        'postmaster@elsewhere',
        'postmaster@sub.example.org',
        'postmaster@aliasonly.example',
        'astronaut57@ample.org',
        'astronaut57@_xample.org',
        'astronaut57@%',
        'astronaut57@',
        'crew@example.net',
      ]) {
        const record = await one(address);
        assert.deepEqual({ user: record.user, via: record.via, pgpkey: record.pgpkey }, none, address);
      }
      assert.equal((await one('postmaster@example.org')).pgpkey, 'KEY-bob');
      assert.equal((await one('POSTMASTER+x@Example.ORG')).pgpkey, 'KEY-bob', 'domain compared by the one rule');
      assert.equal((await one('postmaster@supersecure.mydomain.net')).pgpkey, 'KEY-bob');
      assert.equal((await one('postmaster@extra.example', '+', ['other.example', 'Extra.Example'])).pgpkey, 'KEY-bob');
      assert.equal((await one('info@aliasonly.example')).pgpkey, 'KEY-bob', 'full-address aliases apply anywhere');
      // A target outside the local domains is not resolved through the bare alias: the outside reader has no key here.
      assert.deepEqual(await one('fwd@example.org'), {
        address: 'fwd@example.org',
        user: null,
        via: 'alias',
        pgpkey: null,
      });
    });

    it('lists each member of a mixed alias with its own key, via chains, extensions and loops (issue 11.2)', async () => {
      const squad = await one('squad@example.org');
      assert.deepEqual(
        squad.targets?.map((t) => [t.address, t.user, t.pgpkey]),
        [
          ['bob@example.org', 'bob@example.org', 'KEY-bob'],
          ['dup@example.org', 'dup@example.org', 'KEY-dup-1\nKEY-dup-2'],
          ['carol@example.org', 'carol@example.org', 'KEY-carol'],
          ['outsider@elsewhere.example', null, null],
        ],
      );
      const ring = await one('ring1@example.org');
      assert.deepEqual(
        ring.targets?.map((t) => [t.address, t.user]),
        [
          ['bob@example.org', 'bob@example.org'],
          ['nobody@example.org', null],
        ],
      );
      const wide = await one('wide@example.org');
      assert.equal(wide.targets?.[1]?.unresolved, 'hop-limit');
      assert.equal(wide.unresolved, 'hop-limit');
      assert.equal((await one('hop1@example.org')).unresolved, undefined, 'exactly at the limit is resolved');
    });

    it('reports loops to alias add, not members reached twice', async () => {
      const expansions = await expandRecipients(
        db,
        [
          'loop1@example.org',
          'selfloop@example.org',
          'ring2@example.org',
          'crew@example.org',
          'team@example.org',
          'bob@example.org',
        ],
        { delimiter: '+' },
      );
      assert.deepEqual(
        expansions.map((e) => e.loop),
        [true, true, true, false, false, false],
      );
      assert.deepEqual(
        expansions[3]?.ends.map((e) => e.user),
        ['bob@example.org', 'dup@example.org', 'carol@example.org'],
      );
    });

    it('gives no record for unknown addresses', async () => {
      assert.deepEqual(await one('stranger@example.org'), {
        address: 'stranger@example.org',
        user: null,
        via: null,
        pgpkey: null,
      });
    });

    it('concatenates the keys of duplicate users rows', async () => {
      const record = await one('dup@example.org');
      assert.equal(record.via, 'user');
      assert.match(record.pgpkey ?? '', /KEY-dup-1/);
      assert.match(record.pgpkey ?? '', /KEY-dup-2/);
    });

    it('matches UTF-8 addresses case-insensitively', async () => {
      assert.equal((await one('jörg@bücher.example')).pgpkey, 'KEY-joerg');
      assert.equal((await one('JÖRG@BÜCHER.example')).pgpkey, 'KEY-joerg');
    });

    it('matches addresses with quotes', async () => {
      assert.equal((await one("O'Brien@example.org")).pgpkey, 'KEY-obrien');
      assert.equal((await one('"quoted local"@example.org')).pgpkey, 'KEY-quoted');
    });

    it('survives hostile addresses and leaves the tables intact', async () => {
      const before = await tableCounts(db);
      const hostile = [
        "'; DROP TABLE users; --",
        "x'); DELETE FROM aliases; --@example.org",
        'a\0b@example.org',
        '\0',
        `${'x'.repeat(2000)}@example.org`,
        '\uFFFD\uFFFD@example.org',
        '\uD800@example.org', // lone surrogate: not representable in UTF-8
        '',
        '@',
        '{"a","b"}',
        'back\\slash@example.org',
        'sp ace@example.org',
      ];
      const records = await resolveRecipients(db, hostile, { delimiter: '+' });
      assert.deepEqual(
        records.map((r) => r.address),
        hostile,
      );
      for (const record of records) assert.deepEqual([record.user, record.via, record.pgpkey], [null, null, null]);
      assert.deepEqual(await tableCounts(db), before);
      assert.deepEqual(before, { users: USERS.length, aliases: ALIASES.length });
    });

    it('matches an address with a leading delimiter char as is', async () => {
      assert.equal((await one('-leading@example.org', '+-')).pgpkey, 'KEY-leading');
    });

    it('resolves 500 recipients in one round trip, in input order', async () => {
      const users = Array.from({ length: 250 }, (_, i): [string, string] => [`bulk${i}@example.net`, `KEY-bulk${i}`]);
      await seed(db, users, []);
      try {
        const addresses = Array.from({ length: 500 }, (_, i) =>
          i % 2 === 0 ? `Bulk${i / 2}+x@example.net` : `nobody${i}@example.net`,
        );
        const counter = counting(db);
        const records = await resolveRecipients(counter.db, addresses, { delimiter: '+' });
        assert.equal(counter.count(), 1);
        assert.equal(records.length, 500);
        records.forEach((record, i) => {
          assert.equal(record.address, addresses[i]);
          assert.equal(record.pgpkey, i % 2 === 0 ? `KEY-bulk${i / 2}` : null);
        });
      } finally {
        await db.query("DELETE FROM users WHERE email LIKE 'bulk%@example.net'");
      }
    });

    it('keeps duplicates and order of the input list', async () => {
      const records = await resolveRecipients(db, ['info@example.org', 'bob@example.org', 'info@example.org'], {
        delimiter: '+',
      });
      assert.deepEqual(
        records.map((r) => [r.address, r.via]),
        [
          ['info@example.org', 'alias'],
          ['bob@example.org', 'user'],
          ['info@example.org', 'alias'],
        ],
      );
    });
  });
}
