// The round-trip verdict on one `pgpipe encrypt` result: RFC 3156 structure, outer headers, packet versions,
// decryption by every listed reader, and the decrypted payload compared byte for byte with the input.
import assert from 'node:assert/strict';
import { DECRYPTORS, listPacketsWithGpg, parsePgpMime } from '../helpers/decrypt.js';
import { fieldsNamed, fieldValue, parseContentType, splitRaw, toCrlf } from '../helpers/raw-mime.js';
import type { RawField, RawMessage } from '../helpers/raw-mime.js';

export type Reader = keyof typeof DECRYPTORS;
export const ALL_READERS: readonly Reader[] = ['openpgp.js', 'gpg', 'rnp', 'sq', 'sqop'];

/**
 * The fields pgpipe copies into the encrypted payload (RFC 9788 protected headers;
 * src/message/build-inner-payload.ts).
 */
export const PROTECTED = ['from', 'to', 'cc', 'reply-to', 'subject', 'date', 'message-id', 'in-reply-to', 'references'];
/**
 * Fields that repeat the Subject (SpamAssassin's rewrite_header, Outlook/Exchange, gateways): with the Subject
 * hidden they must not stay outside, or `[...]` hides nothing (review.md #3). They move inside, no HP-Outer line.
 */
export const SUBJECT_COPIES = [
  'x-spam-prev-subject',
  'thread-topic',
  'x-original-subject',
  'original-subject',
  'x-asg-orig-subj',
  // RFC 9788 §3.2.1 hcp_baseline removes these from the outside too; like the copies they move inside, no HP-Outer.
  'comments',
  'keywords',
];
/**
 * Dropped from the outer header: MIME-Version, and every signature over the plaintext (issue 11 item 6): DKIM under
 * any name, DomainKeys, the ARC set, and any other field carrying DKIM-style bh= and b= tags.
 */
const DROPPED_OUTSIDE = new Set([
  'mime-version',
  'domainkey-signature',
  'arc-seal',
  'arc-message-signature',
  'arc-authentication-results',
]);
const isDroppedOutside = (f: RawField): boolean =>
  DROPPED_OUTSIDE.has(f.lower) ||
  f.lower.endsWith('dkim-signature') ||
  (!PROTECTED.includes(f.lower) && /(^|;)\s*bh\s*=/i.test(fieldValue(f)) && /(^|;)\s*b\s*=/i.test(fieldValue(f)));

export interface CheckOptions {
  /** Private keys the message must decrypt with (each one, with each reader). */
  readonly privateKeys: readonly string[];
  readonly readers?: readonly Reader[];
  readonly subjectPlaceholder?: string;
  /**
   * The input's MIME is malformed (e.g. no closing boundary): a parser then reads the wrapper's closing delimiter
   * as part content, so mailparser's attachment bytes are not compared (the raw bytes still are, exactly).
   */
  readonly brokenMime?: boolean;
}

const latin1 = (b: Buffer): string => b.toString('latin1');
const rawTexts = (fields: readonly RawField[]): string[] => fields.map((f) => latin1(f.raw));
const crlfText = (field: RawField): string => latin1(toCrlf(field.raw));

/** What the outer header must be: the input's fields in order, minus Content-*, MIME-Version, DKIM; Subject masked. */
export function expectedOuterFields(input: RawMessage, placeholder: string): string[] {
  return input.fields
    .filter((f) => !f.lower.startsWith('content-') && !isDroppedOutside(f) && !SUBJECT_COPIES.includes(f.lower))
    .map((f) => (f.lower === 'subject' ? `Subject: ${placeholder}` : latin1(f.raw)));
}

/** Runs every check; returns the decrypted payload (CRLF MIME entity). */
export async function checkEncrypted(input: Buffer, output: Buffer, options: CheckOptions): Promise<Buffer> {
  const placeholder = options.subjectPlaceholder ?? '[...]';
  const original = splitRaw(input);
  const crlfInput = /\r\n/.test(latin1(input).split(/\r?\n\r?\n/)[0] ?? '');

  // 1. RFC 3156 structure and the outer header.
  const { envelope, outerHeaders, armor } = parsePgpMime(output);
  assert.deepEqual(envelope, original.envelope, 'an mbox From_ line stays first, unchanged');
  const outer = rawTexts(outerHeaders);
  const expected = expectedOuterFields(original, placeholder);
  assert.deepEqual(outer.slice(0, expected.length), expected, 'outer header = input fields in order, Subject masked');
  assert.deepEqual(
    outerHeaders.slice(expected.length).map((f) => f.lower),
    ['mime-version', 'content-type'],
    'then exactly MIME-Version and Content-Type',
  );
  assert.equal(fieldValue(outerHeaders[expected.length] as RawField), '1.0');
  assert.equal(outerHeaders.filter((f) => /^(dkim|domainkey)-signature$/.test(f.lower)).length, 0, 'no DKIM outside');
  assert.equal(
    outerHeaders.filter((f) => f.lower !== 'mime-version' && isDroppedOutside(f)).length,
    0,
    'no signature over the plaintext outside (bh=, ARC)',
  );
  // Said twice on purpose: trace and spam verdict fields must stay visible to server-side Sieve rules.
  const traceAndVerdict = (f: RawField) =>
    (f.lower === 'received' || f.lower.startsWith('x-spam-')) && !SUBJECT_COPIES.includes(f.lower);
  for (const kept of original.fields.filter(traceAndVerdict)) {
    assert.ok(outer.includes(latin1(kept.raw)), `${kept.name} kept outside verbatim`);
  }
  if (crlfInput) assert.doesNotMatch(latin1(output), /(?<!\r)\n/, 'CRLF input → CRLF output throughout');
  else assert.doesNotMatch(latin1(output), /\r/, 'LF input → LF output throughout (no stray CR)');

  // 2. Packets as GnuPG 2.2 sees them: one v3 PKESK per key, SEIPDv1 with MDC, no AEAD.
  const packets = await listPacketsWithGpg(armor);
  assert.equal(
    packets.match(/^:pubkey enc packet: version 3,/gm)?.length,
    options.privateKeys.length,
    'one v3 PKESK per recipient key',
  );
  assert.match(packets, /^:encrypted data packet:\n\s+length: .*\n\s+mdc_method: 2$/m, 'SEIPDv1 with MDC');
  assert.doesNotMatch(packets, /aead|version [56]|unknown version/i, 'no AEAD / v6 packets');

  // 3. Every reader, every key, the same plaintext.
  const readers = options.readers ?? ALL_READERS;
  const runs = options.privateKeys.flatMap((key) => readers.map((reader) => ({ key, reader })));
  const results = await Promise.all(runs.map(({ key, reader }) => DECRYPTORS[reader](armor, key)));
  const plaintext = results[0];
  results.forEach((decrypted, i) => {
    assert.ok(decrypted.equals(plaintext ?? Buffer.alloc(0)), `${runs[i]?.reader} decrypts to the same bytes`);
  });
  assert.ok(plaintext, 'decrypted');
  checkPayload(original, plaintext, input, placeholder);
  await checkWithMailparser(input, output, plaintext, placeholder, options.brokenMime === true);
  return plaintext;
}

interface Parsed {
  subject?: string;
  text?: string;
  html?: string | false;
  from?: { text: string };
  to?: unknown;
  cc?: unknown;
  date?: Date;
  messageId?: string;
  attachments: { contentType: string; filename?: string; contentId?: string; content: Buffer }[];
}

/**
 * A MIME reader's view (mailparser, as a webmail would use it): the decrypted payload parses to the same subject,
 * addresses, text, HTML and attachments as the original (attachment bytes compared modulo LF/CRLF, since the
 * payload is CRLF-canonical); the outer message shows only the placeholder subject.
 */
async function checkWithMailparser(
  input: Buffer,
  output: Buffer,
  plaintext: Buffer,
  placeholder: string,
  brokenMime: boolean,
): Promise<void> {
  // mailparser ships no types.
  const { simpleParser } = (await import('mailparser' as string)) as { simpleParser: (b: Buffer) => Promise<Parsed> };
  const view = (p: Parsed) => ({
    subject: p.subject,
    text: p.text?.replace(/\r\n/g, '\n'),
    html: typeof p.html === 'string' ? p.html.replace(/\r\n/g, '\n') : p.html,
    from: p.from?.text,
    to: p.to,
    cc: p.cc,
    date: p.date?.toISOString(),
    messageId: p.messageId,
    attachments: p.attachments.map((a) => [
      a.contentType,
      a.filename,
      a.contentId,
      brokenMime ? 'not compared' : toCrlf(a.content).toString('base64'),
    ]),
  });
  const [before, inside, outside] = await Promise.all([input, plaintext, output].map((b) => simpleParser(b)));
  assert.deepEqual(view(inside as Parsed), view(before as Parsed), 'mailparser reads the payload like the original');
  if ((before as Parsed).subject !== undefined) assert.equal((outside as Parsed).subject, placeholder);
}

/** The decrypted payload: protected-headers root (Thunderbird's reading rule), copies, HP-Outer, the body exact. */
export function checkPayload(original: RawMessage, plaintext: Buffer, input: Buffer, placeholder: string): void {
  assert.doesNotMatch(latin1(plaintext), /(?<!\r)\n/, 'payload is CRLF-canonical (RFC 3156 §4)');
  const inner = splitRaw(plaintext);
  assert.ok(inner.hasSeparator, 'payload root has a header section');

  // Thunderbird reads protected headers only if the decrypted top-level Content-Type has
  // protected-headers="v1"; RFC 9788 adds hp="cipher".
  const rootTypes = fieldsNamed(inner, 'content-type');
  assert.equal(rootTypes.length, 1, 'one root Content-Type');
  const root = parseContentType(fieldValue(rootTypes[0] as RawField));
  assert.equal(root.type, 'multipart/mixed');
  assert.equal(root.params['protected-headers'], 'v1');
  assert.equal(root.params.hp, 'cipher');
  const boundary = root.params.boundary ?? '';
  assert.ok(boundary.length > 0, 'root boundary');
  assert.ok(!input.includes(`--${boundary}`), 'boundary absent from the original');

  for (const name of [...PROTECTED, ...SUBJECT_COPIES]) {
    assert.deepEqual(
      rawTexts(fieldsNamed(inner, name)),
      fieldsNamed(original, name).map(crlfText),
      `inner ${name} = original, verbatim (CRLF)`,
    );
  }
  const hpOuter = fieldsNamed(inner, 'hp-outer').map(fieldValue);
  const outsideNames = PROTECTED.filter((n) => fieldsNamed(original, n).length > 0);
  assert.deepEqual(
    [...new Set(hpOuter.map((v) => v.slice(0, v.indexOf(':')).toLowerCase()))].sort(),
    [...outsideNames].sort(),
    'an HP-Outer line for each protected field left outside',
  );
  if (fieldsNamed(original, 'subject').length > 0) {
    assert.ok(hpOuter.includes(`Subject: ${placeholder}`), 'HP-Outer: Subject: <placeholder>');
  }
  assert.deepEqual(
    inner.fields
      .map((f) => f.lower)
      .filter((n) => n !== 'content-type' && n !== 'hp-outer' && !PROTECTED.includes(n) && !SUBJECT_COPIES.includes(n)),
    [],
    'root carries nothing else (no MIME-Version/Received/X-Spam inside)',
  );

  // The one child: the original Content-* fields, a blank line, the original body (LF → CRLF), then the close.
  const open = Buffer.from(`--${boundary}\r\n`);
  const close = Buffer.from(`\r\n--${boundary}--\r\n`);
  assert.ok(inner.body.subarray(0, open.length).equals(open), 'payload body starts with the boundary');
  assert.ok(inner.body.subarray(-close.length).equals(close), 'payload body ends with the closing boundary');
  const child = inner.body.subarray(open.length, inner.body.length - close.length);
  const head = child.indexOf('\r\n\r\n');
  assert.ok(head >= 0, 'child part has a header section');
  const childFields = latin1(child.subarray(0, head));
  const contentFields = original.fields.filter((f) => f.lower.startsWith('content-')).map(crlfText);
  assert.equal(
    childFields,
    contentFields.length > 0 && fieldsNamed(original, 'content-type').length > 0
      ? contentFields.join('\r\n')
      : ['Content-Type: text/plain; charset=us-ascii', ...contentFields].join('\r\n'),
    'child part = the original Content-* fields verbatim',
  );
  const body = child.subarray(head + 4);
  assert.ok(body.equals(toCrlf(original.body)), 'inner body = input body with LF → CRLF, byte for byte');
}
