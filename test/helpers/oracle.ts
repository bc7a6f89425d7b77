// The fuzz oracle: given the input, pgpipe's exit code, what the recording sendmail received and each recipient's
// private key, decides whether the run kept both promises (never lose mail, never leak plaintext). No I/O.
import * as openpgp from 'openpgp';
import { crlf, oracleSplit, type OracleField } from './oracle-split.js';
import { isSpamField } from '../../src/filter/check-spam.js';
import { detectProtection } from '../../src/message/detect-protection.js';
import { removeFields, splitMessage } from '../../src/message/split-message.js';
import type { HeaderProtectionOptions } from '../../src/message/types.js';

/** One sendmail invocation as the recording stand-in saw it. */
export interface Handoff {
  readonly sender: string;
  readonly recipients: readonly string[];
  readonly data: Buffer;
  /** sendmail exited 0 after reading all of its input: the mail is handed on. */
  readonly accepted: boolean;
}

export interface OracleRecipient {
  readonly address: string;
  /** Private key when the recipient has a usable key in the store (must get ciphertext), else null. */
  readonly privateKey: openpgp.PrivateKey | null;
}

/** Every planted token matches this (complete tokens only: mutations may cut one in half). */
export const TOKEN_PATTERN = /ZQ[BS][0-9a-z]+n[0-9]+Z/g;

export interface OracleOptions {
  /** Outer Subject placeholder when the subject is hidden; null when the real Subject stays outside. */
  readonly subjectPlaceholder: string | null;
  /** Input fields an encrypted copy may drop (e.g. DKIM-Signature, MIME-Version, forged X-Spam-*). */
  readonly droppable: RegExp;
  /** Input fields an encrypted copy may drop by content (a DKIM-style signature under any name), raw bytes. */
  readonly droppableField?: (raw: Buffer) => boolean;
  /** Input fields a plaintext copy may drop (forged X-Spam-*). */
  readonly droppablePlain: RegExp;
  /** Outer fields a filter may add besides MIME-Version/Content-Type/Subject placeholder (lower-case names). */
  readonly addable: RegExp;
  /** The documented "already protected → pass unchanged" decision (src/message detectProtection). */
  isProtected(input: Buffer): boolean;
}

/** What pgpipe may change outside the encryption under `hp`: the options the fuzz and fault suites judge by. */
export function oracleOptions(hp: HeaderProtectionOptions): OracleOptions {
  return {
    subjectPlaceholder: hp.enabled ? hp.subjectPlaceholder : null,
    // Signatures over the plaintext (DKIM under any name, DomainKeys, the ARC set) leave the outside (issue 11).
    droppable: new RegExp(
      '^(x-spam-|mime-version$|.*dkim-signature$|domainkey-signature$|' +
        'arc-(seal|message-signature|authentication-results)$)',
    ),
    // ... and any other field that is a DKIM-style tag list with bh= and b= (not the protected copies).
    droppableField: (raw) => {
      const text = raw.toString('latin1');
      const name = text.slice(0, text.indexOf(':')).trim().toLowerCase();
      const tags = text
        .slice(text.indexOf(':') + 1)
        .split(';')
        .map((t) => t.trim().split('=')[0]?.trim().toLowerCase());
      const copied =
        /^(from|to|cc|reply-to|subject|date|message-id|in-reply-to|references|received|keywords|comments)$/;
      return !copied.test(name) && tags.includes('bh') && tags.includes('b');
    },
    droppablePlain: /^x-spam-/,
    addable: /^x-spam-/, // spamd's own verdict headers (sender-supplied ones are removed first)
    isProtected: (input) => detectProtection(splitMessage(removeFields(input, isSpamField))).kind !== 'none',
  };
}

export interface CaseRun {
  readonly input: Buffer;
  readonly sender: string;
  readonly recipients: readonly OracleRecipient[];
  /** Exit code, or 'hang' when the harness had to give up past the deadline. */
  readonly exitCode: number | 'hang';
  readonly handoffs: readonly Handoff[];
  /** Everything pgpipe printed or logged (stderr lines, log events). */
  readonly diagnostics: string;
}

/** judge() over one harness run (exit code, handoffs, diagnostics) of `input` from `sender` to `recipients`. */
export function judgeRun(
  input: Buffer,
  sender: string,
  recipients: readonly OracleRecipient[],
  run: Pick<CaseRun, 'exitCode' | 'handoffs' | 'diagnostics'>,
  hp: HeaderProtectionOptions,
): Promise<Verdict> {
  const { exitCode, handoffs, diagnostics } = run;
  return judge({ input, sender, recipients, exitCode, handoffs, diagnostics }, oracleOptions(hp));
}

export type OutcomeLabel =
  'exit0-encrypted' | 'exit0-passthrough-protected' | 'exit0-plain-unkeyed-only' | 'exit75-deferred';
export type Verdict = { ok: true; outcome: OutcomeLabel; notes: string[] } | { ok: false; reason: string };

const fail = (reason: string): Verdict => ({ ok: false, reason });
const latin1 = (b: Buffer) => b.toString('latin1');

/**
 * Tokens planted in the body or Subject that do not also occur in some other (legitimately visible) field. `lf` is
 * RFC 5322's reading as pgpipe implements it (lines end at LF); `cr` is a reader that also takes a bare CR for a
 * line break. The `cr` set matters only where a bare CR is left outside the encryption (it could smuggle body text
 * into a visible field: D1, so such a field starts the encrypted body); elsewhere both readers agree.
 */
export function secretTokens(input: Buffer, subjectHidden: boolean): { lf: Set<string>; cr: Set<string> } {
  const crAsLf = Buffer.from(input.toString('latin1').replace(/\r(?!\n)/g, '\n'), 'latin1');
  const lf = secretIn(input, subjectHidden);
  return { lf, cr: new Set([...lf, ...secretIn(crAsLf, subjectHidden)]) };
}

const BARE_CR = /\r(?!\n)/;

/**
 * Index of the first input field holding a bare CR: from there on src/message reads the input as body (the D1
 * rule: a bare CR in a header field ends the header section), so fields from this index are body bytes, never
 * droppable header fields.
 */
const bodyFromField = (fields: readonly OracleField[]): number => {
  const i = fields.findIndex((f) => BARE_CR.test(latin1(f.raw)));
  return i === -1 ? fields.length : i;
};

const QP_ESCAPE = /=([0-9A-Fa-f]{2})/g;
const BASE64_RUN_LINE = /^[A-Za-z0-9+/=]+[ \t]*$/;

/**
 * What a reader of `body` could see, as latin1 texts: the raw bytes; a quoted-printable reading; and a base64
 * reading of every run of base64-looking lines, each piece between `=` padding decoded on its own and at all four
 * alignments (readers that go on after padding, or that met a stray line first). A token hidden after base64
 * padding, after DER or packets, or inside an armored literal packet is found this way.
 */
export function readableViews(body: Buffer): string[] {
  const raw = latin1(body);
  const qp = raw.replace(/=\r?\n/g, '').replace(QP_ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const views = [raw, qp];
  for (const text of [raw, qp]) {
    let run: string[] = [];
    const flush = () => {
      for (const piece of run.join('').split(/=+/)) {
        for (let shift = 0; shift < 4 && shift < piece.length; shift += 1) {
          views.push(latin1(Buffer.from(piece.slice(shift, shift + ((piece.length - shift) & ~3)), 'base64')));
        }
      }
      run = [];
    };
    for (const line of text.split(/\r?\n/)) {
      if (BASE64_RUN_LINE.test(line)) run.push(line.trim());
      else if (line.trim() !== '' || run.length === 0) flush();
    }
    flush();
  }
  return views;
}

function secretIn(input: Buffer, subjectHidden: boolean): Set<string> {
  const split = oracleSplit(input);
  const found = (b: Buffer) => new Set(latin1(b).match(TOKEN_PATTERN) ?? []);
  const secret = new Set(readableViews(split.body).flatMap((view) => view.match(TOKEN_PATTERN) ?? []));
  const visible = found(split.envelope); // an mbox envelope line is no content: sendmail strips it
  for (const f of split.fields) {
    const set = found(f.raw);
    if (f.lower === 'subject' && subjectHidden) set.forEach((t) => secret.add(t));
    else set.forEach((t) => visible.add(t));
  }
  visible.forEach((t) => secret.delete(t));
  return secret;
}

/** A field for presence comparisons: CRLF-canonical, without trailing CRs (a CR before EOF may become an EOL). */
const fieldKey = (raw: Buffer): Buffer => {
  let end = raw.length;
  while (end > 0 && raw[end - 1] === 0x0d) end -= 1;
  return crlf(raw.subarray(0, end));
};

export async function judge(run: CaseRun, options: OracleOptions): Promise<Verdict> {
  const secrets = secretTokens(run.input, options.subjectPlaceholder !== null);
  const secret = secrets.cr; // the wider set: no reader may find a token in pgpipe's own output
  for (const token of secret) {
    if (run.diagnostics.includes(token)) return fail(`secret token ${token} appears in pgpipe's output/log`);
  }
  if (run.exitCode === 'hang') return fail('hang: no exit before the deadline');
  // pipe(8) reads a leading RFC 3463 code on non-zero exits: a 2.x/5.x start would turn a deferral into a bounce.
  if (run.exitCode !== 0 && /^[25]\.\d/.test(run.diagnostics)) return fail('non-zero exit with a 2.x/5.x status text');
  const accepted = run.handoffs.filter((h) => h.accepted);
  if (run.exitCode === 75) {
    if (accepted.length > 0) return fail('exit 75 but sendmail accepted a copy (duplicate delivery on retry)');
    return { ok: true, outcome: 'exit75-deferred', notes: [] };
  }
  if (run.exitCode !== 0) return fail(`exit ${run.exitCode} (only 0 or 75 allowed)`);
  if (run.handoffs.length !== accepted.length) return fail('exit 0 although a sendmail call failed');

  // Every envelope recipient handed on exactly once, with the envelope sender.
  const seen = new Map<string, Handoff>();
  for (const h of accepted) {
    if (h.sender !== run.sender) return fail(`sendmail got sender ${JSON.stringify(h.sender)}`);
    for (const r of h.recipients) {
      if (seen.has(r)) return fail(`recipient ${r} handed on twice`);
      seen.set(r, h);
    }
  }
  const notes: string[] = [];
  let encrypted = 0;
  let passthrough = 0;
  for (const r of run.recipients) {
    const h = seen.get(r.address);
    if (h === undefined) return fail(`recipient ${r.address} lost: exit 0 without a handoff`);
    seen.delete(r.address);
    if (r.privateKey === null) {
      const problem = checkPlainCopy(run.input, h.data, options);
      if (problem !== null) return fail(`unkeyed ${r.address}: ${problem}`);
      continue;
    }
    const enc = await checkEncryptedCopy(run.input, h.data, r.privateKey, secrets, options);
    if (enc === null) {
      encrypted += 1;
      continue;
    }
    // Not a correct encryption: the only other acceptable result is the documented pass-through, and only when no
    // readable token of the body reaches the keyed recipient with it (issue 11: "already encrypted" must mean every
    // byte is ciphertext; the Subject of passed-through mail stays visible by design).
    if (options.isProtected(run.input) && checkPlainCopy(run.input, h.data, options) === null) {
      const readable = [...secretTokens(run.input, false).cr];
      if (readable.length > 0) {
        return fail(`keyed ${r.address}: readable token ${readable[0]} passed through unchanged`);
      }
      passthrough += 1;
      notes.push(`passthrough (${enc})`);
      continue;
    }
    return fail(`keyed ${r.address}: ${enc}`);
  }
  if (seen.size > 0) return fail(`handed on to addresses not in the envelope: ${[...seen.keys()].join(', ')}`);
  const outcome: OutcomeLabel =
    encrypted > 0 ? 'exit0-encrypted' : passthrough > 0 ? 'exit0-passthrough-protected' : 'exit0-plain-unkeyed-only';
  return { ok: true, outcome, notes };
}

/** A plaintext copy must carry every input byte: all fields (bar droppable ones) and the body. */
function checkPlainCopy(input: Buffer, data: Buffer, options: OracleOptions): string | null {
  const inSplit = oracleSplit(input);
  const canon = crlf(data);
  const body = crlf(inSplit.body);
  if (body.length > 0 && canon.indexOf(body) === -1) return 'body bytes missing from the copy';
  const present = fieldSet(data);
  const headerEnd = bodyFromField(inSplit.fields);
  for (const [i, f] of inSplit.fields.entries()) {
    if (i < headerEnd && options.droppablePlain.test(f.lower)) continue;
    const key = fieldKey(f.raw);
    if (!present.has(latin1(key)) && canon.indexOf(key) === -1) return `header field ${f.lower} missing from the copy`;
  }
  return null;
}

const FIELD_NAME = (f: OracleField) => f.lower;

/**
 * Field keys of a message's top-level header and of the header of each entity that follows a "--" delimiter line
 * near the top (the inner payload's first part): a fast path for presence checks, with indexOf as the fallback.
 */
function fieldSet(message: Buffer): Set<string> {
  const set = new Set<string>();
  const add = (b: Buffer) => oracleSplit(b).fields.forEach((f) => set.add(latin1(fieldKey(f.raw))));
  add(message);
  const text = latin1(message.subarray(0, Math.min(message.length, 4 * 1024 * 1024)));
  for (const m of text.matchAll(/^--[^\r\n]*\r?\n/gm)) {
    add(message.subarray((m.index ?? 0) + m[0].length));
    if (set.size > 100_000) break;
  }
  return set;
}
// OpenPGP.js packets carry `version` at run time; its typings do not declare it on every packet class.
const versionOf = (packet: unknown): unknown => (packet as { version?: unknown } | undefined)?.version;

/** null when `data` is a correct PGP/MIME copy for `key`; else what is wrong. */
async function checkEncryptedCopy(
  input: Buffer,
  data: Buffer,
  key: openpgp.PrivateKey,
  secrets: { lf: Set<string>; cr: Set<string> },
  options: OracleOptions,
): Promise<string | null> {
  const outer = oracleSplit(data);
  if (!outer.hasSeparator) return 'outer message has no header/body separator';
  const inSplit = oracleSplit(input);
  if (outer.envelope.length > 0 && !crlf(outer.envelope).equals(crlf(inSplit.envelope))) {
    return "outer starts with an mbox From line that is not the input's";
  }
  const subjectHidden = options.subjectPlaceholder !== null;

  // 1. Outer header fields: each is an input field left outside, or one of the fields PGP/MIME adds.
  const outerHeader = latin1(data.subarray(0, data.length - outer.body.length));
  const secret = BARE_CR.test(outerHeader) ? secrets.cr : secrets.lf;
  const inputCanon = new Set(inSplit.fields.map((f) => latin1(fieldKey(f.raw))));
  const contentTypes = outer.fields.filter((f) => FIELD_NAME(f) === 'content-type');
  if (contentTypes.length !== 1) return `outer has ${contentTypes.length} Content-Type fields`;
  for (const f of outer.fields) {
    const text = latin1(fieldKey(f.raw));
    if (f.lower === 'content-type') continue;
    if (f.lower === 'mime-version' && /^MIME-Version: 1\.0$/i.test(text)) continue;
    if (f.lower === 'subject' && subjectHidden) {
      if (text !== `Subject: ${options.subjectPlaceholder}`) return 'outer Subject is not the placeholder';
      continue;
    }
    if (f.lower.startsWith('content-')) return `outer keeps structural field ${f.lower}`;
    if (inputCanon.has(text)) continue;
    if (options.addable.test(f.lower)) {
      for (const t of secret) if (text.includes(t)) return `added outer field ${f.lower} leaks a token`;
      continue;
    }
    return `outer field ${f.lower} is neither an input field nor a PGP/MIME field`;
  }
  const ct = latin1(contentTypes[0]!.raw);
  if (!/multipart\/encrypted/i.test(ct)) return 'outer is not multipart/encrypted';
  if (!/protocol\s*=\s*"application\/pgp-encrypted"/i.test(ct)) return 'protocol parameter missing or unquoted';
  const boundary = /boundary\s*=\s*"([^"]+)"/i.exec(ct)?.[1] ?? /boundary\s*=\s*([^;\s]+)/i.exec(ct)?.[1];
  if (boundary === undefined) return 'outer Content-Type has no boundary';

  // 2. Outer body: exactly the RFC 3156 skeleton around one armored message; nothing of the input.
  const skeleton = parseSkeleton(latin1(outer.body), boundary);
  if (typeof skeleton === 'string') return skeleton;
  const outside = latin1(data.subarray(0, data.length - outer.body.length)) + skeleton.outside;
  for (const t of secret) if (outside.includes(t)) return `secret token ${t} outside the OpenPGP payload`;

  // 3. The payload: SEIPDv1 + v3 PKESK (GnuPG 2.2), decrypts with the recipient's key, holds every input byte.
  let inner: Buffer;
  try {
    const message = await openpgp.readMessage({ armoredMessage: skeleton.armor });
    for (const p of message.packets) {
      if (p instanceof openpgp.PublicKeyEncryptedSessionKeyPacket && versionOf(p) !== 3)
        return `PKESK v${versionOf(p)}`;
      if (p instanceof openpgp.AEADEncryptedDataPacket) return 'AEAD packet (GnuPG 2.2 cannot read it)';
    }
    const seipd = message.packets.filter((p) => p instanceof openpgp.SymEncryptedIntegrityProtectedDataPacket);
    if (seipd.length !== 1 || versionOf(seipd[0]) !== 1) return 'payload is not exactly one SEIPDv1 packet';
    const { data: plain } = await openpgp.decrypt({ message, decryptionKeys: key, format: 'binary' });
    inner = Buffer.from(plain as Uint8Array);
  } catch (error) {
    return `payload does not decrypt: ${(error as Error).message.slice(0, 120)}`;
  }
  const body = crlf(inSplit.body);
  if (body.length > 0 && inner.indexOf(body) === -1) return 'decrypted payload lacks the input body bytes';
  const outerCanon = crlf(data.subarray(0, data.length - outer.body.length));
  const innerFields = fieldSet(inner);
  const outerFields = fieldSet(data);
  const headerEnd = bodyFromField(inSplit.fields);
  for (const [i, f] of inSplit.fields.entries()) {
    if (i < headerEnd && (options.droppable.test(f.lower) || options.droppableField?.(f.raw) === true)) continue;
    const raw = fieldKey(f.raw);
    const hiddenSubject = f.lower === 'subject' && subjectHidden;
    const key = latin1(raw);
    if (innerFields.has(key) || inner.indexOf(raw) !== -1) continue;
    const outsideOk = !hiddenSubject && !f.lower.startsWith('content-');
    if (outsideOk && (outerFields.has(key) || outerCanon.indexOf(raw) !== -1)) continue;
    return `input field ${f.lower} neither outside nor inside`;
  }
  return null;
}

/** Splits the outer body into preamble, version part, armor part; returns the armor or a complaint. */
function parseSkeleton(body: string, boundary: string): { armor: string; outside: string } | string {
  const lines = body.split(/\r?\n/);
  const delimiter = `--${boundary}`;
  const parts: string[][] = [];
  let current: string[] | null = null;
  let closed = false;
  const outside: string[] = [];
  for (const line of lines) {
    if (closed) {
      outside.push(line);
    } else if (line === `${delimiter}--`) {
      if (current !== null) parts.push(current);
      current = null;
      closed = true;
    } else if (line === delimiter) {
      if (current !== null) parts.push(current);
      current = [];
    } else if (current === null) {
      outside.push(line);
    } else {
      current.push(line);
    }
  }
  if (!closed) return 'outer multipart has no closing boundary';
  if (parts.length !== 2) return `outer multipart has ${parts.length} parts, not 2`;
  if (outside.join('\n').trim().length > 200) return 'outer preamble/epilogue carries more than a short note';
  const [version, payload] = parts as [string[], string[]];
  const sep1 = version.indexOf('');
  if (sep1 === -1 || !version.slice(0, sep1).some((l) => /^Content-Type:\s*application\/pgp-encrypted\s*$/i.test(l))) {
    return 'first part is not application/pgp-encrypted';
  }
  if (
    version
      .slice(sep1 + 1)
      .join('\n')
      .trim() !== 'Version: 1'
  )
    return 'first part body is not "Version: 1"';
  const sep2 = payload.indexOf('');
  if (sep2 === -1 || !payload.slice(0, sep2).some((l) => /^Content-Type:\s*application\/octet-stream\b/i.test(l))) {
    return 'second part is not application/octet-stream';
  }
  const armor = payload
    .slice(sep2 + 1)
    .join('\n')
    .trim();
  if (!armor.startsWith('-----BEGIN PGP MESSAGE-----') || !armor.endsWith('-----END PGP MESSAGE-----')) {
    return 'second part holds more than one armored OpenPGP message';
  }
  if (armor.indexOf('-----BEGIN', 1) !== -1) return 'second part holds several armor blocks';
  // Everything of the outer body except the armor lines, for the token check.
  const notArmor = [...outside, ...version, ...payload.slice(0, sep2 + 1)].join('\n');
  return { armor, outside: notArmor };
}
