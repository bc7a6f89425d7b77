// The mail corpus: every fixture in test/fixtures/mail plus Debian SpamAssassin's two sample messages,
// with what pgpipe must do with each ('encrypt' or 'pass' unchanged). Reads files only; never writes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toCrlf } from './raw-mime.js';

export interface CorpusCase {
  readonly name: string;
  /** Absolute path of the LF original. */
  readonly file: string;
  readonly expect: 'encrypt' | 'pass';
  /** What the case exercises, for test names and notes. */
  readonly about: string;
  /** Deliberately malformed MIME: parsers may legitimately disagree on its attachment bytes. */
  readonly brokenMime?: boolean;
}

const mailDir = fileURLToPath(new URL('../fixtures/mail/', import.meta.url));
/** Installed by the Debian spamassassin package (.ci/run installs it); read in place, not copied. */
export const SPAMASSASSIN_EXAMPLES = '/usr/share/doc/spamassassin/examples/';

const fixture = (name: string, expect: CorpusCase['expect'], about: string): CorpusCase => ({
  name,
  file: `${mailDir}${name}.eml`,
  expect,
  about,
});

export const CORPUS: readonly CorpusCase[] = [
  fixture('plain-ascii', 'encrypt', 'text/plain us-ascii, trailing spaces, lone dot, "From " line'),
  fixture('utf8-8bit', 'encrypt', 'text/plain UTF-8 8bit body, RFC 2047 From/Subject'),
  fixture('quoted-printable', 'encrypt', 'iso-8859-1 quoted-printable with soft breaks'),
  fixture('base64-attachment', 'encrypt', 'multipart/mixed with base64 PDF and PNG attachments'),
  fixture('multipart-alternative', 'encrypt', 'multipart/alternative text + HTML, folded Content-Type'),
  fixture('multipart-related', 'encrypt', 'multipart/related HTML + inline image by cid:'),
  fixture('nested-multipart', 'encrypt', 'mixed > alternative > related, plus a text/calendar attachment'),
  fixture('no-body', 'encrypt', 'header section and separator, empty body'),
  fixture('headers-only', 'encrypt', 'header section only, no separator line, no body'),
  fixture('no-content-type', 'encrypt', 'no MIME-Version, no Content-Type (cron mail)'),
  fixture('long-subject', 'encrypt', 'Subject folded over four lines (SP and HTAB continuations)'),
  fixture('rfc2047-subject', 'encrypt', 'RFC 2047 B+Q encoded Subject folded, ISO-2022-JP From, base64 body'),
  fixture('folded-recipients', 'encrypt', 'To/Cc folded over several lines, Reply-To, In-Reply-To, References'),
  fixture('dkim-signed', 'encrypt', 'DKIM-Signature, DomainKey-Signature and X-Google-DKIM-Signature present'),
  fixture('arc-signed', 'encrypt', 'ARC set, X-Google/X-Original-DKIM-Signature, bh= field, Keywords, Comments'),
  fixture('forged-spam-headers', 'encrypt', 'X-Spam-* headers forged by the sender'),
  fixture('junk-bytes', 'encrypt', 'NUL, 8-bit junk, invalid UTF-8, lone CR, no final newline, raw latin1 Subject'),
  {
    ...fixture('broken-mime', 'encrypt', 'multipart/mixed missing its closing boundary, truncated base64'),
    brokenMime: true,
  },
  fixture('signed-multipart', 'encrypt', 'PGP/MIME multipart/signed (real gpg signature): signed is not encrypted'),
  fixture('cleartext-signed', 'encrypt', 'cleartext-signed -----BEGIN PGP SIGNED MESSAGE----- body'),
  fixture('quotes-pgp-block', 'encrypt', 'plain text quoting an armored PGP MESSAGE block mid-text'),
  fixture('spam-tagged', 'encrypt', 'real SpamAssassin output: rewritten Subject, X-Spam-Prev-Subject, Thread-Topic'),
  fixture('mbox-from-line', 'encrypt', 'mbox "From " envelope line first (pipe flags=F), ">From" in the body'),
  fixture('smime-signed-opaque', 'encrypt', 'S/MIME opaque-signed (smime-type=signed-data): readable by anyone'),
  fixture('smime-signed-detached', 'encrypt', 'S/MIME clear-signed multipart/signed (pkcs7-signature)'),
  fixture('pgp-signed-armor', 'encrypt', '`gpg --armor --sign`: a PGP MESSAGE block that is signed, not encrypted'),
  fixture('pgp-inline-cleartext-attachment', 'encrypt', 'inline PGP first text part, then a cleartext attachment'),
  fixture('pgp-mime-encrypted', 'pass', 'RFC 3156 multipart/encrypted (gpg-encrypted)'),
  fixture('pgp-inline', 'pass', 'inline PGP: single text/plain part that is an armored PGP MESSAGE'),
  fixture('pgp-inline-multipart', 'pass', 'inline PGP first text part of multipart/mixed + binary .pgp attachment'),
  fixture('smime-pkcs7', 'pass', 'S/MIME application/pkcs7-mime enveloped-data (openssl cms)'),
  fixture('smime-x-pkcs7', 'pass', 'S/MIME application/x-pkcs7-mime enveloped-data (openssl smime)'),
  fixture('smime-p7m-attachment', 'pass', 'S/MIME as application/octet-stream name="smime.p7m"'),
  fixture(
    'pgp-mime-exchange',
    'pass',
    'Exchange-mangled PGP/MIME: mixed, empty text, base64 pgp-encrypted + octet-stream',
  ),
  fixture('pgp-mime-exchange-7bit', 'pass', 'Exchange-mangled PGP/MIME with the armor left in 7bit'),
  {
    name: 'sa-sample-nonspam',
    file: `${SPAMASSASSIN_EXAMPLES}sample-nonspam.txt`,
    expect: 'encrypt',
    about: 'SpamAssassin sample-nonspam.txt (Debian package file)',
  },
  {
    name: 'sa-sample-spam',
    file: `${SPAMASSASSIN_EXAMPLES}sample-spam.txt`,
    expect: 'encrypt',
    about: 'SpamAssassin sample-spam.txt (GTUBE, Debian package file)',
  },
];

export function corpusCase(name: string): CorpusCase {
  const found = CORPUS.find((c) => c.name === name);
  if (!found) throw new Error(`no corpus case named ${name}`);
  return found;
}

/**
 * The fixture bytes as stored (LF), or with every bare LF turned into CRLF ('crlf': what an SMTP-shaped or
 * Windows-made file looks like). Lone CRs already in a fixture are kept.
 */
export function readFixture(name: string, eol: 'lf' | 'crlf'): Buffer {
  const raw = readFileSync(corpusCase(name).file);
  return eol === 'crlf' ? toCrlf(raw) : raw;
}
