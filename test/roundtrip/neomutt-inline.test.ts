// NeoMutt, a real terminal client, shows pgpipe's inline PGP decrypted. It runs under script(1) (it needs a tty):
// Enter opens the message once the index is drawn, and $display_filter copies what the pager would show (after
// decryption and charset conversion) into a file. Both backends: classic (Debian's gpg.rc) and GPGME.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { encryptMessage } from '../../src/encrypt/encrypt-message.js';
import { splitMessage } from '../../src/message/split-message.js';
import { makeKey, type TestKey } from '../helpers/keys.js';

const hp = { enabled: true, subjectPlaceholder: '[...]' };
let runs = 0;

/** What NeoMutt's pager shows for the only message of `mbox` (its $display_filter input), or why not. */
function shownByNeomutt(dir: string, mbox: string, gpgme: boolean): Promise<string> {
  const shown = join(dir, `shown-${(runs += 1)}.txt`); // one file per run: a late writer cannot fool the next
  const rc = join(dir, 'neomuttrc');
  writeFileSync(
    rc,
    [
      gpgme ? 'set crypt_use_gpgme = yes' : 'set crypt_use_gpgme = no\nsource /etc/neomuttrc.d/gpg.rc',
      'set pgp_auto_decode = yes',
      'set charset = utf-8',
      'set header_cache = ""',
      'set wait_key = no',
      `set folder = "${dir}"`,
      `set display_filter = "cat > ${shown}"`,
      '',
    ].join('\n'),
  );
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', `neomutt -n -F ${rc} -R -f ${mbox}`, '/dev/null'], {
      env: { PATH: process.env.PATH, TERM: 'xterm', HOME: dir, GNUPGHOME: join(dir, 'gnupg') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let opened = false;
    let done = false;
    const timer = setTimeout(() => finish(new Error(`NeoMutt timed out; screen: ${screen.slice(-300)}`)), 30_000);
    const poll = setInterval(() => {
      const text = existsSync(shown) ? readFileSync(shown, 'utf8') : '';
      if (/END PGP MESSAGE/.test(text)) finish(text);
    }, 100);
    function finish(result: string | Error): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(poll);
      child.stdin.write('qqy');
      setTimeout(() => child.kill('SIGKILL'), 2_000).unref();
      if (typeof result === 'string') resolve(result);
      else reject(result);
    }
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString('latin1');
      if (!opened && screen.includes('Msgs:1')) {
        opened = true;
        child.stdin.write('\r');
      }
    });
    child.on('error', reject);
  });
}

describe('NeoMutt shows inline PGP from pgpipe', () => {
  let dir = '';
  let key: TestKey;
  let publicKey: openpgp.PublicKey;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgpipe-neomutt-'));
    mkdirSync(join(dir, 'gnupg'), { mode: 0o700 });
    key = await makeKey({ kind: 'curve25519', email: 'bob@example.org' });
    publicKey = await openpgp.readKey({ armoredKey: key.publicArmored });
    execFileSync('gpg', ['--batch', '--quiet', '--import'], {
      input: key.privateArmored,
      env: { ...process.env, GNUPGHOME: join(dir, 'gnupg') },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
  });
  after(() => {
    try {
      execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: join(dir, 'gnupg') } });
    } catch {
      /* no agent started */
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const mboxOf = async (name: string, contentType: string, encoding: string, body: string): Promise<string> => {
    const raw =
      `From: alice@example.net\nTo: bob@example.org\nSubject: ${name}\nDate: Tue, 1 Dec 2026 10:00:00 +0000\n` +
      `MIME-Version: 1.0\nContent-Type: ${contentType}\nContent-Transfer-Encoding: ${encoding}\n\n${body}`;
    const out = await encryptMessage(splitMessage(Buffer.from(raw, 'latin1')), [publicKey], {
      hp,
      mode: 'prefer-inline',
      inlineFlatten: false,
    });
    const path = join(dir, `${name}.mbox`);
    const envelope = Buffer.from('From alice@example.net Tue Dec  1 10:00:00 2026\n');
    writeFileSync(path, Buffer.concat([envelope, out, Buffer.from('\n')]));
    return path;
  };

  it('UTF-8 (base64): both backends show the decrypted text', async () => {
    const mbox = await mboxOf(
      'utf8',
      'text/plain; charset=utf-8',
      'base64',
      `${Buffer.from('Grüße, café: token NM-UTF8\n').toString('base64')}\n`,
    );
    for (const gpgme of [false, true]) {
      const text = await shownByNeomutt(dir, mbox, gpgme);
      assert.match(text, /^Subject: utf8$/m);
      assert.match(text, /Grüße, café: token NM-UTF8/, `gpgme=${gpgme}`);
      assert.doesNotMatch(text, /^[A-Za-z0-9+/]{60,}$/m, 'no armor left in the shown text');
    }
  });

  it('ISO-8859-1 (quoted-printable): the classic backend shows "café" (the armor\'s Charset: header)', async () => {
    const mbox = await mboxOf(
      'latin1',
      'text/plain; charset=iso-8859-1',
      'quoted-printable',
      'caf=E9 token NM-LATIN1\n',
    );
    const text = await shownByNeomutt(dir, mbox, false);
    assert.match(text, /café token NM-LATIN1/);
  });
});
