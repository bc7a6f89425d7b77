// encrypt_mode / inline_flatten in `pgpipe filter`: the real process, real PostgreSQL, fixture sendmail/spamc.
// The filter gets inline PGP from the shared encryptor (no filter-specific code), never gpgit's inline-or-plain.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { seedStore } from '../helpers/seed.js';
import { readRecords, RECORDING_SENDMAIL } from '../helpers/recording-sendmail.js';
import { decryptWithGpg, decryptWithRnp, parsePgpMime } from '../helpers/decrypt.js';
import { splitMessage } from '../../src/message/split-message.js';
import { detectProtection } from '../../src/message/detect-protection.js';

const bin = (name: string): string => fileURLToPath(new URL(`../fixtures/bin/${name}`, import.meta.url));
const PLAIN =
  'From: alice@example.net\nTo: bob@example.org\nSubject: inline please\n' +
  'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n' +
  `${Buffer.from('Grüße from the filter\n').toString('base64')}\n`;
const ALTERNATIVE =
  'From: alice@example.net\nTo: bob@example.org\nSubject: alt\nMIME-Version: 1.0\n' +
  'Content-Type: multipart/alternative; boundary="b"\n\n' +
  '--b\nContent-Type: text/plain\n\nThe text half, long enough.\n' +
  '--b\nContent-Type: text/html\n\n<p>The HTML half</p>\n--b--\n';

let pg: PgCluster;
let bob: TestKey;
const out = mkdtempSync(join(tmpdir(), 'pgpipe-mode-'));

before(async () => {
  pg = await startPostgres();
  bob = await makeKey({ kind: 'curve25519', email: 'bob@example.org' });
  await seedStore({ databaseUrl: pg.url }, [{ email: 'bob@example.org', pgpkey: bob.publicArmored }]);
});
after(async () => {
  await pg?.stop();
  rmSync(out, { recursive: true, force: true });
});
beforeEach(() => {
  for (const f of readdirSync(out)) rmSync(join(out, f));
});

/** What the recording sendmail queued (finished with exit 0), oldest first. */
const sent = (): Buffer[] =>
  readRecords(out)
    .filter((call) => call.exit === 0)
    .map((call) => call.data as Buffer);

function filter(args: string[], input: string, env: Record<string, string> = {}): Promise<CliResult> {
  const fakes = ['--sendmail', RECORDING_SENDMAIL, '--spamc', bin('fake-spamc.js')];
  const argv = ['filter', '--db', pg.url, ...fakes, ...args, '-f', 'alice@example.net', '--', 'bob@example.org'];
  return runCli(argv, { input, env: { FAKE_OUT_DIR: out, RECORD_DIR: out, ...env } });
}

describe('pgpipe filter with encrypt_mode', () => {
  it('--encrypt-mode prefer-inline: the copy is inline PGP that gpg and rnp decrypt to the decoded text', async () => {
    const result = await filter(['--encrypt-mode', 'prefer-inline'], PLAIN);
    assert.equal(result.code, 0, result.stderr);
    const [copy] = sent();
    assert.ok(copy !== undefined);
    const split = splitMessage(copy);
    assert.match(copy.toString('latin1'), /^Subject: inline please$/m);
    assert.match(copy.toString('latin1'), /^Content-Transfer-Encoding: 7bit$/m);
    assert.equal(detectProtection(split).kind, 'pgp-inline');
    for (const decrypt of [decryptWithGpg, decryptWithRnp]) {
      const text = await decrypt(split.body.toString('latin1'), bob.privateArmored);
      assert.equal(text.toString(), 'Grüße from the filter\n');
    }
  });

  it('encrypt_mode from the environment; an alternative stays PGP/MIME unless inline_flatten is on', async () => {
    const env = { PGPIPE_ENCRYPT_MODE: 'prefer-inline' };
    assert.equal((await filter([], ALTERNATIVE, env)).code, 0);
    parsePgpMime(sent()[0] as Buffer);
    for (const f of readdirSync(out)) rmSync(join(out, f));
    assert.equal((await filter([], ALTERNATIVE, { ...env, PGPIPE_INLINE_FLATTEN: 'yes' })).code, 0);
    const flat = splitMessage(sent()[0] as Buffer);
    const text = await decryptWithGpg(flat.body.toString('latin1'), bob.privateArmored);
    assert.equal(text.toString(), 'The text half, long enough.');
  });

  it('the default stays PGP/MIME with the protected Subject', async () => {
    const result = await filter([], PLAIN);
    assert.equal(result.code, 0, result.stderr);
    const copy = sent()[0] as Buffer;
    parsePgpMime(copy);
    assert.match(copy.toString('latin1'), /^Subject: \[\.\.\.\]$/m);
  });

  it('the size limit counts what inline PGP encrypts: a base64 text that fits inline is not refused', async () => {
    // 84 KB of base64 decodes to 63 KB: inline armor ~86 KB fits 100 KB; PGP/MIME armor is at least 112 KB.
    const text = Buffer.alloc(63_000, 'All work and no play. ').toString('base64').replace(/.{76}/g, '$&\n');
    const big =
      'From: alice@example.net\nTo: bob@example.org\nSubject: big\nContent-Type: text/plain\n' +
      `Content-Transfer-Encoding: base64\n\n${text}\n`;
    const limit = ['--message-size-limit', '100000'];
    const inline = await filter([...limit, '--encrypt-mode', 'prefer-inline'], big);
    assert.equal(inline.code, 0, inline.stderr);
    assert.ok((sent()[0] as Buffer).length < 100_000);
    for (const f of readdirSync(out)) rmSync(join(out, f));
    const pgpMime = await filter(limit, big);
    assert.equal(pgpMime.code, 69);
    assert.match(pgpMime.stderr, /^5\.3\.4 pgpipe: [^\n]*message too big after encryption/);
    assert.equal(sent().length, 0);
  });

  it('refuses inline-or-plain (it would hand a keyed recipient plaintext): defer 4.3.5, nothing sent', async () => {
    const ways = [
      [['--encrypt-mode', 'inline-or-plain'], {}],
      [[], { PGPIPE_ENCRYPT_MODE: 'inline-or-plain' }],
    ] as const;
    for (const [args, env] of ways) {
      const result = await filter([...args], PLAIN, env);
      assert.equal(result.code, 75);
      assert.match(result.stderr, /^4\.3\.5 pgpipe: [^\n]*inline-or-plain only on pgpipe encrypt/);
      assert.equal(sent().length, 0);
    }
  });
});
