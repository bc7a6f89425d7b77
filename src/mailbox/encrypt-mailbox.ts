// One mailbox of `pgpipe mailbox encrypt`, in batches of up to 200 messages. For each stored message that is not
// already protected: encrypt it; store the batch's copies in one MULTIAPPEND (each with its original's flags,
// keywords and INTERNALDATE, plus PENDING_KEYWORD and an outer X-Pgpipe-Replaces field naming the original's GUID);
// fetch the copies back and check each is its original's encrypted copy; then expunge the originals; then clear
// PENDING_KEYWORD. Killed anywhere, the mailbox holds each original, or it and its copy, or the pending copy alone:
// never neither. The next run finishes a pair (a pending copy whose original is still there: expunge the original,
// never encrypt it twice) and clears a pending copy whose original is gone.
import type { PublicKey } from 'openpgp';
import { temporary } from '../errors.js';
import { encryptMessage, type EncryptOptions } from '../encrypt/encrypt-message.js';
import { detectProtection } from '../message/detect-protection.js';
import { splitMessage } from '../message/split-message.js';
import { fetchStoredMessages, type DovecotTools } from './doveadm.js';
import type { ImapSession } from './imap-session.js';
import { fetchAttributes, quote, type ImapValue } from './imap-tokens.js';
import { PENDING_KEYWORD, REPLACES_FIELD, replacesOf, withReplacesField } from './replaces-field.js';

export interface Mailbox {
  /** As Dovecot names it (UTF-8): for doveadm and people. */
  readonly name: string;
  /** Modified UTF-7: for IMAP. */
  readonly imap: string;
}

export interface MailboxSummary {
  readonly mailbox: string;
  /** Messages found (pending copies of an earlier run not counted twice). */
  readonly messages: number;
  /** Encrypted by this run (with --dry-run: would be). */
  readonly encrypted: number;
  /** Already protected (PGP/MIME, inline PGP, S/MIME, or an earlier run's copy): left alone. */
  readonly alreadyProtected: number;
  /** Left over by an interrupted run and finished now (original expunged or copy's keyword cleared). */
  readonly finished: number;
  /** Expunged by someone else while this run went on. */
  readonly gone: number;
}

export interface MailboxWork {
  readonly session: ImapSession;
  readonly tools: DovecotTools;
  readonly user: string;
  readonly keys: readonly PublicKey[];
  /** As every other command encrypts (header protection, encrypt_mode). */
  readonly encryption: EncryptOptions;
  readonly dryRun: boolean;
  /** Messages per batch (`--batch`, default 200). */
  readonly batch: number;
  /** Called once the mailbox's messages are counted, and after each message. */
  readonly progress: (done: number, total: number) => void;
}

interface StoredMessage {
  readonly uid: number;
  readonly guid: string;
  readonly flags: readonly string[];
  readonly internalDate: string;
  /** RFC822.SIZE (CRLF): what a batch of fetched messages may add up to. */
  readonly size: number;
  readonly replaces: string | null;
}

const SCAN_ITEMS = `(UID X-GUID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (${REPLACES_FIELD})])`;
/** A batch holds at most `--batch` messages (default 200), and at most this many bytes beyond its first. */
const BATCH_BYTES = 16 * 1024 * 1024;

const text = (value: ImapValue | undefined): string | null =>
  typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('latin1') : null;

function storedMessage(attributes: Map<string, ImapValue>): StoredMessage | null {
  const uid = Number(text(attributes.get('UID')));
  const guid = text(attributes.get('X-GUID'));
  const flags = attributes.get('FLAGS');
  const internalDate = text(attributes.get('INTERNALDATE'));
  if (!Number.isSafeInteger(uid) || guid === null || !Array.isArray(flags) || internalDate === null) return null;
  const header = [...attributes].find(([name]) => name.startsWith('BODY['))?.[1];
  return {
    uid,
    guid,
    flags: flags.filter((flag): flag is string => typeof flag === 'string'),
    internalDate,
    size: Number(text(attributes.get('RFC822.SIZE'))) || 0,
    replaces: Buffer.isBuffer(header) ? replacesOf(header) : null,
  };
}

const hasFlag = (message: StoredMessage, flag: string): boolean =>
  message.flags.some((f) => f.toLowerCase() === flag.toLowerCase());

async function scan(work: MailboxWork, mailbox: Mailbox): Promise<StoredMessage[] | null> {
  const selected = await work.session.command(`${work.dryRun ? 'EXAMINE' : 'SELECT'} ${quote(mailbox.imap)}`);
  if (selected.status !== 'OK') return null; // \Noselect or gone: nothing stored in it
  const exists = selected.untagged.map((r) => /^\* (\d+) EXISTS/i.exec(r.toString('latin1'))?.[1]).find(Boolean);
  if (exists === undefined || Number(exists) === 0) return [];
  const reply = await work.session.ok(`listing ${mailbox.name}`, `UID FETCH 1:* ${SCAN_ITEMS}`);
  const messages: StoredMessage[] = [];
  for (const raw of reply.untagged) {
    const attributes = fetchAttributes(raw);
    const message = attributes === null ? null : storedMessage(attributes);
    if (message !== null) messages.push(message);
  }
  return messages.sort((a, b) => a.uid - b.uid);
}

/** The copies at `uids` are encrypted messages naming their originals; anything else stops before an expunge. */
async function verifyCopies(work: MailboxWork, mailbox: Mailbox, copies: ReadonlyMap<number, string>): Promise<void> {
  if (copies.size === 0) return;
  const reply = await work.session.ok(
    `reading back the copies in ${mailbox.name}`,
    `UID FETCH ${[...copies.keys()].join(',')} (UID BODY.PEEK[])`,
  );
  const bodies = new Map<number, ImapValue | undefined>();
  for (const attributes of reply.untagged.map(fetchAttributes)) {
    // Only the answers with a body: another client's flag change comes as a FETCH too, without one.
    if (attributes?.has('BODY[]') === true) bodies.set(Number(text(attributes.get('UID'))), attributes.get('BODY[]'));
  }
  for (const [uid, guid] of copies) {
    const body = bodies.get(uid);
    const ok =
      Buffer.isBuffer(body) && replacesOf(body) === guid && detectProtection(splitMessage(body)).kind !== 'none';
    if (!ok) {
      throw temporary('dovecot.failed', `${mailbox.name}: the copy at UID ${uid} is not the encrypted one; kept`);
    }
  }
}

async function expunge(work: MailboxWork, mailbox: Mailbox, uids: readonly number[]): Promise<void> {
  if (uids.length === 0) return;
  const set = uids.join(',');
  await work.session.ok(`expunging originals in ${mailbox.name}`, `UID STORE ${set} +FLAGS.SILENT (\\Deleted)`);
  await work.session.ok(`expunging originals in ${mailbox.name}`, `UID EXPUNGE ${set}`);
}

async function clearPending(work: MailboxWork, mailbox: Mailbox, uids: readonly number[]): Promise<void> {
  if (uids.length === 0) return;
  await work.session.ok(
    `finishing copies in ${mailbox.name}`,
    `UID STORE ${uids.join(',')} -FLAGS.SILENT (${PENDING_KEYWORD})`,
  );
}

/** The flags of the messages at `uids` that are still there. */
async function currentFlags(
  work: MailboxWork,
  mailbox: Mailbox,
  uids: readonly number[],
): Promise<Map<number, string[]>> {
  const flags = new Map<number, string[]>();
  if (uids.length === 0) return flags;
  const reply = await work.session.ok(`reading flags in ${mailbox.name}`, `UID FETCH ${uids.join(',')} (UID FLAGS)`);
  for (const attributes of reply.untagged.map(fetchAttributes)) {
    const list = attributes?.get('FLAGS');
    const uid = Number(text(attributes?.get('UID')));
    if (Array.isArray(list) && uids.includes(uid)) {
      flags.set(
        uid,
        list.filter((flag): flag is string => typeof flag === 'string'),
      );
    }
  }
  return flags;
}

/** Pure: the UIDs of an APPENDUID uid-set (`7`, `7:9`, `7,9:10`), in order. */
export function uidSet(set: string): number[] {
  return set.split(',').flatMap((range) => {
    const [from, to] = range.split(':').map(Number) as [number, number | undefined];
    if (to === undefined) return [from];
    const [low, high] = from <= to ? [from, to] : [to, from];
    return Array.from({ length: high - low + 1 }, (_, i) => low + i);
  });
}

/**
 * Stores the encrypted copies in one MULTIAPPEND (RFC 3502): one transaction and one Maildir sync for the batch,
 * all or none stored. Each keeps its original's flags, keywords and INTERNALDATE, plus PENDING_KEYWORD. Returns the
 * copies' UIDs from APPENDUID, in order.
 */
async function appendCopies(
  work: MailboxWork,
  mailbox: Mailbox,
  copies: readonly { original: StoredMessage; copy: Buffer }[],
): Promise<number[]> {
  const parts: (string | Buffer)[] = [`APPEND ${quote(mailbox.imap)}`];
  for (const { original, copy } of copies) {
    const flags = [...original.flags.filter((f) => f.toLowerCase() !== '\\recent'), PENDING_KEYWORD];
    parts.push(` (${flags.join(' ')}) ${quote(original.internalDate)} `, copy);
  }
  const reply = await work.session.ok(`storing encrypted copies in ${mailbox.name}`, ...parts);
  const set = /\[APPENDUID \d+ ([\d:,]+)\]/i.exec(reply.text)?.[1];
  const uids = set === undefined ? [] : uidSet(set);
  if (uids.length !== copies.length) {
    throw temporary('dovecot.failed', `${mailbox.name}: no APPENDUID for the copies; originals kept`);
  }
  return uids;
}

/** Consecutive runs of messages to work on together (`size` of them at most, BATCH_BYTES). */
function* batches(messages: readonly StoredMessage[], size: number): Generator<StoredMessage[]> {
  let batch: StoredMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    if (batch.length > 0 && (batch.length >= size || bytes + message.size > BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += message.size;
  }
  if (batch.length > 0) yield batch;
}

/** Null for a mailbox that cannot be selected (a \Noselect parent such as `Archive` of `Archive.2024`). */
export async function encryptMailbox(work: MailboxWork, mailbox: Mailbox): Promise<MailboxSummary | null> {
  const counts = { encrypted: 0, alreadyProtected: 0, finished: 0, gone: 0 };
  const messages = await scan(work, mailbox);
  if (messages === null) return null;
  // A copy is ours only with both marks: the keyword no sender can set, and the field naming its original.
  const pending = messages.filter((m) => hasFlag(m, PENDING_KEYWORD) && m.replaces !== null);
  const copyOf = new Map(pending.map((copy) => [copy.replaces as string, copy]));
  const originals = messages.filter((m) => !pending.includes(m));
  const total = originals.length;
  work.progress(0, total);
  let done = 0;
  for (const batch of batches(originals, work.batch)) {
    const texts = await fetchStoredMessages(
      work.tools,
      work.user,
      mailbox.name,
      batch.filter((m) => !copyOf.has(m.guid)).map((m) => m.uid),
    );
    /** copy UID → the GUID it must name; the originals to expunge once every copy is checked. */
    const check = new Map<number, string>();
    const expunged: number[] = [];
    const fresh: { original: StoredMessage; copy: Buffer }[] = [];
    for (const original of batch) {
      const copy = copyOf.get(original.guid);
      const raw = texts.get(original.uid);
      texts.delete(original.uid); // released as the batch goes on
      const message = raw === undefined ? null : splitMessage(raw);
      if (copy !== undefined) {
        copyOf.delete(original.guid);
        counts.finished += 1;
        check.set(copy.uid, original.guid);
        expunged.push(original.uid);
      } else if (message === null) {
        counts.gone += 1;
      } else if (detectProtection(message).kind !== 'none') {
        counts.alreadyProtected += 1;
      } else {
        counts.encrypted += 1;
        if (!work.dryRun) {
          const encrypted = await encryptMessage(message, work.keys, work.encryption);
          fresh.push({ original, copy: withReplacesField(encrypted, original.guid) });
        }
      }
      done += 1;
      work.progress(done, total);
    }
    if (work.dryRun) continue;
    // Flags as they are now, not as the scan saw them (a client may have read or flagged one since), and without
    // the originals a client expunged meanwhile.
    const current = await currentFlags(
      work,
      mailbox,
      fresh.map(({ original }) => original.uid),
    );
    const still = fresh.flatMap(({ original, copy }) => {
      const flags = current.get(original.uid);
      return flags === undefined ? [] : [{ original: { ...original, flags }, copy }];
    });
    counts.encrypted -= fresh.length - still.length;
    counts.gone += fresh.length - still.length;
    if (still.length > 0) {
      const uids = await appendCopies(work, mailbox, still);
      still.forEach(({ original }, i) => {
        check.set(uids[i] as number, original.guid);
        expunged.push(original.uid);
      });
    }
    // Killed anywhere from here on, each original is still there or its checked, pending copy is.
    await verifyCopies(work, mailbox, check);
    await expunge(work, mailbox, expunged);
    await clearPending(work, mailbox, [...check.keys()]);
  }
  // Pending copies whose original is already gone: only the keyword is left to clear.
  counts.finished += copyOf.size;
  if (!work.dryRun)
    await clearPending(
      work,
      mailbox,
      [...copyOf.values()].map((copy) => copy.uid),
    );
  return { mailbox: mailbox.name, messages: total + copyOf.size, ...counts };
}
