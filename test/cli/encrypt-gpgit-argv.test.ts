// `pgpipe encrypt` with gpgit.pl's command line: `[options] RECIPIENT...`, --encrypt-mode, --inline-flatten,
// --skip-smime/--skip-ms-bug, help and the exit codes a Sieve filter, Exim transport_filter or procmail sees.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { seedStore } from '../helpers/seed.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { decryptWithGpg, decryptWithOpenpgpJs, parsePgpMime } from '../helpers/decrypt.js';
import { splitMessage } from '../../src/message/split-message.js';

const plain =
  'From: a@example.net\nTo: alice@example.org\nSubject: gpgit argv\n' +
  'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nHello =C3=A9 world\n';
const html =
  'From: a@example.net\nSubject: html\nMIME-Version: 1.0\n' + 'Content-Type: text/html; charset=utf-8\n\n<p>hi</p>\n';
const alternative =
  'From: a@example.net\nSubject: alt\nMIME-Version: 1.0\n' +
  'Content-Type: multipart/alternative; boundary="b"\n\n' +
  '--b\nContent-Type: text/plain; charset=utf-8\n\nSee you at ten, Alice.\n' +
  '--b\nContent-Type: text/html\n\n<p>See you</p>\n--b--\n';

describe("pgpipe encrypt takes gpgit.pl's command line", () => {
  let pg: PgCluster;
  let alice: TestKey;
  let odd: TestKey;
  let expired: TestKey;
  before(async () => {
    pg = await startPostgres();
    [alice, odd, expired] = await Promise.all([
      makeKey({ kind: 'curve25519', email: 'alice@example.org' }),
      makeKey({ kind: 'curve25519', email: 'odd@example.org' }),
      makeKey({ kind: 'curve25519', email: 'old@example.org', expired: true }),
    ]);
    await seedStore({ databaseUrl: pg.url }, [
      { email: 'alice@example.org', pgpkey: alice.publicArmored },
      { email: '-odd@example.org', pgpkey: odd.publicArmored },
      { email: 'old@example.org', pgpkey: expired.publicArmored },
    ]);
  });
  after(async () => pg.stop());

  const encrypt = (args: string[], input: string, env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(['encrypt', '--db', pg.url, ...args], { input, env });
  const inlineArmor = (result: CliResult): string => splitMessage(result.stdout).body.toString('latin1');

  it('encrypts to a positional recipient as --to does (PGP/MIME by default)', async () => {
    const result = await encrypt(['alice@example.org'], plain);
    assert.equal(result.code, 0, result.stderr);
    const inner = await decryptWithOpenpgpJs(parsePgpMime(result.stdout).armor, alice.privateArmored);
    assert.match(inner.toString('latin1'), /Subject: gpgit argv/);
  });

  it('mixes positional recipients with --to, options after recipients too; each key decrypts', async () => {
    const result = await encrypt(['alice@example.org', '--to', '-odd@example.org', '--verbose'], plain);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /encrypted to 2 key\(s\)/);
    for (const key of [alice, odd]) await decryptWithOpenpgpJs(parsePgpMime(result.stdout).armor, key.privateArmored);
  });

  it('keeps a recipient that looks like an option a recipient: after --, and even without it', async () => {
    const forms = [
      ['--', '-odd@example.org'],
      ['-odd@example.org'],
      ['--verbose', '-odd@example.org', 'alice@example.org'],
    ];
    for (const args of forms) {
      const result = await encrypt(args, plain);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      await decryptWithOpenpgpJs(parsePgpMime(result.stdout).armor, odd.privateArmored);
    }
  });

  it('--encrypt-mode prefer-inline: text/plain becomes inline PGP of its decoded text, Subject kept', async () => {
    const result = await encrypt(['--encrypt-mode', 'prefer-inline', 'alice@example.org'], plain);
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout.toString('latin1');
    assert.match(out, /^Subject: gpgit argv$/m);
    const head =
      /^Content-Type: text\/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n-----BEGIN PGP MESSAGE/m;
    assert.match(out, head);
    assert.equal((await decryptWithGpg(inlineArmor(result), alice.privateArmored)).toString('utf8'), 'Hello é world\n');
  });

  it('a second pass leaves inline output unchanged, in every mode', async () => {
    const first = await encrypt(['--encrypt-mode', 'prefer-inline', 'alice@example.org'], plain);
    for (const mode of ['pgpmime', 'prefer-inline', 'inline-or-plain']) {
      const args = ['encrypt', '--db', pg.url, '--encrypt-mode', mode, 'alice@example.org'];
      const again = await runCli(args, { input: first.stdout });
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(again.stdout, first.stdout, mode);
    }
  });

  it('prefer-inline: HTML becomes PGP/MIME; inline-or-plain: HTML passes unchanged (plaintext chosen)', async () => {
    const pgpMime = await encrypt(['--encrypt-mode', 'prefer-inline', 'alice@example.org'], html);
    assert.equal(pgpMime.code, 0, pgpMime.stderr);
    parsePgpMime(pgpMime.stdout);
    const plainOut = await encrypt(['--encrypt-mode', 'inline-or-plain', '--verbose', 'alice@example.org'], html);
    assert.equal(plainOut.code, 0, plainOut.stderr);
    assert.equal(plainOut.stdout.toString('latin1'), html);
    assert.match(plainOut.stderr, /UNENCRYPTED \(inline-or-plain\)/);
  });

  it('--inline-flatten drops the HTML half of a text+HTML alternative so it goes inline', async () => {
    const args = ['--encrypt-mode', 'inline-or-plain', '--inline-flatten', 'alice@example.org'];
    const result = await encrypt(args, alternative);
    assert.equal(result.code, 0, result.stderr);
    const marker = /^X-Pgpipe-Flattened-From: multipart\/alternative\(text\/plain,text\/html\)$/m;
    assert.match(result.stdout.toString('latin1'), marker);
    const text = await decryptWithGpg(inlineArmor(result), alice.privateArmored);
    assert.equal(text.toString(), 'See you at ten, Alice.');
    const without = await encrypt(['--encrypt-mode', 'prefer-inline', 'alice@example.org'], alternative);
    parsePgpMime(without.stdout); // not flattened: the whole alternative, HTML included, as PGP/MIME
  });

  it('encrypt_mode and inline_flatten from the environment apply; inline-or-plain there is 75, 4.3.5', async () => {
    const env = { PGPIPE_ENCRYPT_MODE: 'prefer-inline', PGPIPE_INLINE_FLATTEN: 'yes' };
    const result = await encrypt(['alice@example.org'], alternative, env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(inlineArmor(result), /^-----BEGIN PGP MESSAGE-----/);
    const refused = await encrypt(['alice@example.org'], plain, { PGPIPE_ENCRYPT_MODE: 'inline-or-plain' });
    assert.equal(refused.code, 75);
    assert.equal(refused.stdout.length, 0);
    const line = /^4\.3\.5 pgpipe: invalid PGPIPE_ENCRYPT_MODE: [^\n]*inline-or-plain only on pgpipe encrypt/;
    assert.match(refused.stderr, line);
  });

  it("accepts --skip-smime, --skip-ms-bug and the forks' --always-trust (no effect)", async () => {
    const result = await encrypt(['--skip-smime', '--skip-ms-bug', '--always-trust', 'alice@example.org'], plain);
    assert.equal(result.code, 0, result.stderr);
    parsePgpMime(result.stdout);
  });

  it('a recipient without a key: the message unchanged, exit 0 (as gpgit), in every mode', async () => {
    for (const mode of ['pgpmime', 'prefer-inline', 'inline-or-plain']) {
      const result = await encrypt(['--encrypt-mode', mode, 'nobody@example.org'], plain);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.toString('latin1'), plain);
    }
  });

  it('an unusable stored key defers (75, nothing on stdout), also under inline-or-plain with HTML', async () => {
    for (const [mode, input] of [
      ['prefer-inline', plain],
      ['inline-or-plain', html],
    ] as const) {
      const result = await encrypt(['--encrypt-mode', mode, 'old@example.org'], input);
      assert.equal(result.code, 75);
      assert.equal(result.stdout.length, 0);
      assert.match(result.stderr, /^4\.7\.5 pgpipe: key for old@example\.org is unusable: /);
    }
  });
});

describe('pgpipe encrypt usage (no database needed)', () => {
  const usage = async (args: string[]): Promise<CliResult> => {
    const env = { PGPIPE_DATABASE_URL: 'postgresql://x@127.0.0.1:1/none' };
    const result = await runCli(['encrypt', ...args], { input: plain, env });
    assert.equal(result.code, 64, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stdout.length, 0);
    return result;
  };

  it("no recipient is a usage error (64), nothing on stdout: never gpgit's help in place of the message", async () => {
    assert.match((await usage([])).stderr, /^pgpipe: encrypt needs a recipient/);
    await usage(['--encrypt-mode', 'prefer-inline']);
    await usage(['--verbose', '--']);
  });

  it("refuses a bad --encrypt-mode, a positional word that is no address, and gpgit forks' --gpg-home", async () => {
    await usage(['--encrypt-mode', 'smime', 'alice@example.org']);
    const notAddress = await usage(['prefer-inline', 'alice@example.org']);
    assert.match(notAddress.stderr, /not a recipient address: "prefer-inline"/);
    assert.match((await usage(['--gpg-home', '/var/opt/gpgit/.gnupg', 'a@example.org'])).stderr, /users\.pgpkey/);
    assert.match((await usage(['--gpg-path', '/usr/bin/gpg', 'a@example.org'])).stderr, /key import --gnupg-home/);
    await usage(['--frobnicate', 'alice@example.org']);
  });

  it("-h and --help print help on stdout, exit 0, naming gpgit's options", async () => {
    for (const flag of ['-h', '--help']) {
      const result = await runCli(['encrypt', flag]);
      assert.equal(result.code, 0);
      const text = result.stdout.toString();
      assert.match(text, /Usage: pgpipe encrypt \[options\] RECIPIENT\.\.\./);
      assert.match(text, /--skip-smime +accepted for gpgit\.pl; no effect/);
      assert.match(text, /--skip-ms-bug +accepted for gpgit\.pl; no effect/);
      assert.match(text, /inline-or-plain/);
    }
  });
});
