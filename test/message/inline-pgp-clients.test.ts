// Inline PGP output read by the real clients: GnuPG, RNP and sqop decrypt the armor to exactly the decoded text
// (QP/base64 undone, charset bytes untouched, CRLF kept), and pgpipe's own check sees it as already encrypted.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { encryptMessage } from '../../src/encrypt/encrypt-message.js';
import { detectProtection } from '../../src/message/detect-protection.js';
import { splitMessage } from '../../src/message/split-message.js';
import { makeKey, type TestKey } from '../helpers/keys.js';
import { decryptWithGpg, decryptWithRnp, decryptWithSqop } from '../helpers/decrypt.js';

const hp = { enabled: true, subjectPlaceholder: '[...]' };
const inline = async (raw: Buffer, key: openpgp.PublicKey, inlineFlatten = false): Promise<Buffer> =>
  encryptMessage(splitMessage(raw), [key], { hp, mode: 'prefer-inline', inlineFlatten });

const CASES: { name: string; raw: Buffer; text: Buffer }[] = [
  {
    name: 'quoted-printable latin1 (LF)',
    raw: Buffer.from(
      'From: a@x\nSubject: QP\nContent-Type: text/plain; charset=iso-8859-1\n' +
        'Content-Transfer-Encoding: quoted-printable\n\nCaf=E9 au lait, soft=\nbreak\n',
      'latin1',
    ),
    text: Buffer.from('Caf\xe9 au lait, softbreak\n', 'latin1'),
  },
  {
    name: 'base64 UTF-8 with CRLF inside (CRLF message)',
    raw: Buffer.from(
      `From: a@x\r\nSubject: b64\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Transfer-Encoding: base64\r\n\r\n${Buffer.from('Grüße, 日本\r\nline 2\r\n').toString('base64')}\r\n`,
    ),
    text: Buffer.from('Grüße, 日本\r\nline 2\r\n'),
  },
  {
    name: '8bit format=flowed',
    raw: Buffer.from(
      'Subject: flowed\nContent-Type: text/plain; charset=utf-8; format=flowed\n' +
        'Content-Transfer-Encoding: 8bit\n\nsoft \nbreak, ünïcödé\n',
    ),
    text: Buffer.from('soft \nbreak, ünïcödé\n'),
  },
  { name: 'empty body', raw: Buffer.from('Subject: empty\n\n'), text: Buffer.alloc(0) },
];

describe('inline PGP through GnuPG, RNP and sqop', () => {
  let key: TestKey;
  let publicKey: openpgp.PublicKey;
  before(async () => {
    key = await makeKey({ kind: 'curve25519', email: 'inline@example.org' });
    publicKey = await openpgp.readKey({ armoredKey: key.publicArmored });
  });

  for (const c of CASES) {
    it(`${c.name}: each client decrypts to exactly the decoded text; counts as already encrypted`, async () => {
      const out = await inline(c.raw, publicKey);
      const split = splitMessage(out);
      const armor = split.body.toString('latin1');
      assert.match(armor, /^-----BEGIN PGP MESSAGE-----\r?\n/);
      assert.match(out.toString('latin1'), /^Subject: /m, 'the Subject stays visible (inline has no protected copy)');
      for (const decrypt of [decryptWithGpg, decryptWithRnp, decryptWithSqop]) {
        assert.deepEqual(await decrypt(armor, key.privateArmored), c.text, decrypt.name);
      }
      assert.equal(detectProtection(split).kind, 'pgp-inline');
    });
  }

  it('--inline-flatten: the text half of a text+HTML alternative decrypts in gpg; the HTML is gone', async () => {
    const raw = Buffer.from(
      'Subject: alt\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="b"\n\n' +
        '--b\nContent-Type: text/plain; charset=utf-8\n\nHello Bob, see you at 10.\n' +
        '--b\nContent-Type: text/html; charset=utf-8\n\n<p>Hello Bob, see you at <b>10</b>.</p>\n--b--\n',
    );
    const out = await inline(raw, publicKey, true);
    const split = splitMessage(out);
    assert.doesNotMatch(out.toString('latin1'), /<p>|Content-Type: (?:text\/html|multipart)/);
    const text = await decryptWithGpg(split.body.toString('latin1'), key.privateArmored);
    assert.equal(text.toString(), 'Hello Bob, see you at 10.');
    assert.equal(detectProtection(split).kind, 'pgp-inline');
  });
});
