// `alias add|remove|list` against a real PostgreSQL and the embedded store, with both alias forms the tutorial
// uses (full address, bare local part), and the rows the filter's lookup could never use refused.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { runAliasAdd } from '../../src/admin/alias-add.js';
import { runAliasList } from '../../src/admin/alias-list.js';
import { runAliasRemove } from '../../src/admin/alias-remove.js';
import { resolveRecipients } from '../../src/store/resolve-recipients.js';
import { forEachStore, type StoreContext } from './stores.js';
import { refused } from './refused.js';
import { seedDb } from '../helpers/seed.js';

const addUser = (store: StoreContext, email: string): Promise<void> => seedDb(store.db, [{ email, pgpkey: 'KEY' }]);

forEachStore('alias add/remove/list', (store) => {
  it("adds both forms as the tutorial writes them, and the filter's lookup follows them", async () => {
    const s = store();
    await addUser(s, 'astronaut57@example.org');
    const bare = await runAliasAdd({ alias: 'Astronaut57', email: 'astronaut57@example.org' }, s.deps);
    assert.equal(bare.kind, 'local-part');
    assert.match(bare.warnings[0] ?? '', /bare local part/);
    const full = await runAliasAdd({ alias: 'postmaster@example.org', email: 'astronaut57@example.org' }, s.deps);
    assert.deepEqual([full.kind, full.warnings], ['address', []]);
    const rows = (await s.db.query('SELECT alias, email FROM aliases ORDER BY alias')).rows;
    assert.deepEqual(rows, [
      { alias: 'astronaut57', email: 'astronaut57@example.org' },
      { alias: 'postmaster@example.org', email: 'astronaut57@example.org' },
    ]);
    // other.example is one of the server's own domains by the local_domains setting (issue 11.3).
    const records = await resolveRecipients(s.db, ['astronaut57@other.example', 'postmaster@example.org'], {
      delimiter: '+',
      localDomains: ['other.example'],
    });
    assert.deepEqual(
      records.map((r) => [r.user, r.via]),
      [
        ['astronaut57@example.org', 'alias'],
        ['astronaut57@example.org', 'alias'],
      ],
    );
  });

  it('lists aliases with their form and target', async () => {
    const s = store();
    await addUser(s, 'a@example.org');
    await runAliasAdd({ alias: 'info@example.org', email: 'a@example.org' }, s.deps);
    await runAliasAdd({ alias: 'sales@example.org', email: 'info@example.org' }, s.deps);
    await runAliasAdd({ alias: 'ext', email: 'someone@outside.example' }, s.deps);
    const { aliases } = await runAliasList({}, s.deps);
    assert.deepEqual(
      aliases.map((a) => [a.alias, a.kind, a.target]),
      [
        ['info@example.org', 'address', 'user'],
        ['sales@example.org', 'address', 'alias'],
        ['ext', 'local-part', 'unknown'],
      ],
    );
    assert.deepEqual(
      (await runAliasList({ email: 'A@example.org' }, s.deps)).aliases.map((a) => a.alias),
      ['info@example.org'],
    );
  });

  it('a second target makes a distribution list, with a warning', async () => {
    const s = store();
    await addUser(s, 'a@example.org');
    await addUser(s, 'b@example.org');
    await runAliasAdd({ alias: 'team@example.org', email: 'a@example.org' }, s.deps);
    const second = await runAliasAdd({ alias: 'team@example.org', email: 'b@example.org' }, s.deps);
    assert.deepEqual(second.warnings, [
      'alias team@example.org now has 2 targets (a@example.org, b@example.org); each gets the mail',
    ]);
    assert.equal((await s.db.query('SELECT 1 FROM aliases')).rows.length, 2);
  });

  it('warns when the target is not a user', async () => {
    const s = store();
    const result = await runAliasAdd({ alias: 'x@example.org', email: 'nobody@outside.example' }, s.deps);
    assert.match(result.warnings[0] ?? '', /^nobody@outside\.example is not a pgpipe user/);
  });

  it("refuses duplicates, a user's own address, self-reference, loops and bad names", async () => {
    const s = store();
    await addUser(s, 'a@example.org');
    await runAliasAdd({ alias: 'info@example.org', email: 'a@example.org' }, s.deps);
    await refused(
      s,
      () => runAliasAdd({ alias: 'INFO@example.org', email: 'a@example.org' }, s.deps),
      'conflict',
      /^alias info@example\.org -> a@example\.org already exists$/,
    );
    await refused(
      s,
      () => runAliasAdd({ alias: 'a@example.org', email: 'b@example.org' }, s.deps),
      'conflict',
      /^a@example\.org is a user's own address/,
    );
    await refused(
      s,
      () => runAliasAdd({ alias: 'x@example.org', email: 'x@example.org' }, s.deps),
      'usage',
      /would point to itself/,
    );
    await runAliasAdd({ alias: 'p@example.org', email: 'q@example.org' }, s.deps);
    const loop = /would create a loop$/;
    await refused(s, () => runAliasAdd({ alias: 'q@example.org', email: 'p@example.org' }, s.deps), 'conflict', loop);
    await refused(
      s,
      () => runAliasAdd({ alias: 'two words', email: 'a@example.org' }, s.deps),
      'usage',
      /is not an alias/,
    );
  });

  it('removes by exact form, optionally only the row to one target', async () => {
    const s = store();
    await s.db.query(`INSERT INTO aliases (alias, email) VALUES ('team', 'a@example.org'), ('team', 'b@example.org'),
      ('team@example.org', 'a@example.org')`);
    const one = await runAliasRemove({ alias: 'team', email: 'b@example.org' }, s.deps);
    assert.deepEqual(one.removed, [{ alias: 'team', email: 'b@example.org' }]);
    const rest = await runAliasRemove({ alias: 'TEAM' }, s.deps);
    assert.deepEqual(rest.removed, [{ alias: 'team', email: 'a@example.org' }]);
    assert.deepEqual((await s.db.query('SELECT alias FROM aliases')).rows, [{ alias: 'team@example.org' }]);
    await refused(s, () => runAliasRemove({ alias: 'team' }, s.deps), 'not-found', /^no alias team /);
  });

  it('a bare local part names the local domains it applies to, and none elsewhere (issue 11.3)', async () => {
    const s = store();
    const lonely = await runAliasAdd({ alias: 'webmaster', email: 'ops@outside.example' }, s.deps);
    assert.match(
      lonely.warnings.at(-1) ?? '',
      /bare local part: it applies only to the server's own domains .*none yet$/,
      'no local domain yet',
    );
    await addUser(s, 'a@example.org');
    await addUser(s, 'b@Second.example');
    const addressing = { delimiter: '+', localDomains: ['third.example'] };
    const bare = await runAliasAdd({ alias: 'sales', email: 'a@example.org' }, { ...s.deps, addressing });
    assert.deepEqual(bare.warnings, [
      "sales is a bare local part: it matches sales@ each of the server's own domains " +
        '(example.org, second.example, third.example), not other domains',
    ]);
    // The filter's resolver: the bare alias applies in the local domains only.
    const records = await resolveRecipients(s.db, ['sales@example.org', 'sales@SECOND.example', 'sales@gmail.com'], {
      delimiter: '+',
    });
    assert.deepEqual(
      records.map((r) => r.user),
      ['a@example.org', 'a@example.org', null],
    );
  });

  it('lists a target that only a bare alias in another domain would match as not a user (issue 11.3)', async () => {
    const s = store();
    await addUser(s, 'a@example.org');
    await runAliasAdd({ alias: 'someone', email: 'a@example.org' }, s.deps);
    await runAliasAdd({ alias: 'fwd@example.org', email: 'someone@gmail.com' }, s.deps);
    await runAliasAdd({ alias: 'loc@example.org', email: 'someone@example.org' }, s.deps);
    const { aliases } = await runAliasList({}, s.deps);
    assert.deepEqual(
      aliases.map((a) => [a.alias, a.target]),
      [
        ['someone', 'user'],
        ['loc@example.org', 'alias'],
        ['fwd@example.org', 'unknown'],
      ],
    );
  });

  it("judges a new row by the filter's resolver: loops via extensions, other members, bare names (issue 9)", async () => {
    const s = store();
    await addUser(s, 'u1@example.org');
    // p -> q+tag: the resolver strips the extension, so q -> p closes a loop.
    await runAliasAdd({ alias: 'p@example.org', email: 'q+tag@example.org' }, s.deps);
    const loop = /would create a loop$/;
    await refused(s, () => runAliasAdd({ alias: 'q@example.org', email: 'p@example.org' }, s.deps), 'conflict', loop);
    // team -> {u1, grp}: the loop is behind the second row, which LIMIT 1 never saw.
    await runAliasAdd({ alias: 'team@example.org', email: 'u1@example.org' }, s.deps);
    await runAliasAdd({ alias: 'team@example.org', email: 'grp@example.org' }, s.deps);
    await refused(
      s,
      () => runAliasAdd({ alias: 'grp@example.org', email: 'team@example.org' }, s.deps),
      'conflict',
      loop,
    );
    // A bare name looping back through a full address in a local domain.
    await runAliasAdd({ alias: 'desk@example.org', email: 'crew@example.org' }, s.deps);
    await refused(s, () => runAliasAdd({ alias: 'crew', email: 'desk@example.org' }, s.deps), 'conflict', loop);
  });

  it('refuses a chain the filter would not follow, also behind a second target (issue 9)', async () => {
    const s = store();
    await addUser(s, 'u1@example.org');
    await addUser(s, 'end@example.org');
    await runAliasAdd({ alias: 'list@example.org', email: 'u1@example.org' }, s.deps);
    for (let i = 1; i <= 4; i++) {
      await runAliasAdd(
        { alias: `h${i}@example.org`, email: i === 4 ? 'end@example.org' : `h${i + 1}@example.org` },
        s.deps,
      );
    }
    // list -> h1 -> ... -> end: 5 hops, still followed
    await runAliasAdd({ alias: 'list@example.org', email: 'h1@example.org' }, s.deps);
    await refused(
      s,
      () => runAliasAdd({ alias: 'outer@example.org', email: 'list@example.org' }, s.deps),
      'conflict',
      /leads through more than 5 aliases; pgpipe would not follow it$/,
    );
  });

  it('warns that a mixed alias is sent to each member on its own (issue 11.2)', async () => {
    const s = store();
    await addUser(s, 'alice@example.org');
    await runAliasAdd({ alias: 'team@example.org', email: 'alice@example.org' }, s.deps);
    const second = await runAliasAdd({ alias: 'team@example.org', email: 'carol@outside.example' }, s.deps);
    const mixed = /^team@example\.org mixes members with and without a key: /;
    assert.ok(
      second.warnings.some((w) => mixed.test(w)),
      second.warnings.join('\n'),
    );
    assert.ok(second.warnings.some((w) => /^carol@outside\.example is not a pgpipe user/.test(w)));
  });
});
