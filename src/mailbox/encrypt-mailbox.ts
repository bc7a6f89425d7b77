// One mailbox of `pgpipe mailbox encrypt`. For each stored message that is not already protected: encrypt it,
// APPEND the copy (same flags and keywords, same INTERNALDATE, plus PENDING_KEYWORD and an outer
// X-Pgpipe-Replaces field naming the original's GUID), fetch the copy back and check it is that encrypted copy,
// then expunge the original, then clear PENDING_KEYWORD. Killed anywhere, the mailbox holds the original, or both,
// or the pending copy alone: never neither. The next run finishes a pair (a pending copy whose original is still
// there: expunge the original, never encrypt it twice) and clears a pending copy whose original is gone.
import type { PublicKey } from 'openpgp';
import { temporary } from '../errors.js';
import { encryptMessage } from '../encrypt/encrypt-message.js';
import { detectProtection } from '../message/detect-protection.js';
import { splitMessage } from '../message/split-message.js';
import type { HeaderProtectionOptions } from '../message/types.js';
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
  readonly hp: HeaderProtectionOptions;
  readonly dryRun: boolean;
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
/** Messages fetched per doveadm call: at most this many, and at most BATCH_BYTES together (beyond the first). */
const BATCH_MESSAGES = 200;
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
  const reply = await work.session.ok(`UID FETCH 1:* ${SCAN_ITEMS}`, `listing ${mailbox.name}`);
  const messages: StoredMessage[] = [];
  for (const raw of reply.untagged) {
    const attributes = fetchAttributes(raw);
    const message = attributes === null ? null : storedMessage(attributes);
    if (message !== null) messages.push(message);
  }
  return messages.sort((a, b) => a.uid - b.uid);
}

/** The copy at `uid` is an encrypted message naming `guid`; anything else stops the run before an expunge. */
async function verifyCopy(work: MailboxWork, mailbox: Mailbox, uid: number, guid: string): Promise<void> {
  const reply = await work.session.ok(`UID FETCH ${uid} (UID BODY.PEEK[])`, `reading back the copy in ${mailbox.name}`);
  const attributes = reply.untagged.map(fetchAttributes).find((a) => a !== null && Number(text(a.get('UID'))) === uid);
  const body = attributes?.get('BODY[]');
  const ok = Buffer.isBuffer(body) && replacesOf(body) === guid && detectProtection(splitMessage(body)).kind !== 'none';
  if (!ok) throw temporary('dovecot.failed', `${mailbox.name}: the copy of UID ${uid} is not the encrypted one; original kept`);
}

async function expunge(work: MailboxWork, mailbox: Mailbox, uid: number): Promise<void> {
  await work.session.ok(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`, `expunging UID ${uid} in ${mailbox.name}`);
  await work.session.ok(`UID EXPUNGE ${uid}`, `expunging UID ${uid} in ${mailbox.name}`);
}

async function clearPending(work: MailboxWork, mailbox: Mailbox, uid: number): Promise<void> {
  await work.session.ok(`UID STORE ${uid} -FLAGS.SILENT (${PENDING_KEYWORD})`, `finishing UID ${uid} in ${mailbox.name}`);
}

/** Stores the encrypted copy of `original`; returns its UID from APPENDUID. */
async function appendCopy(work: MailboxWork, mailbox: Mailbox, original: StoredMessage, copy: Buffer): Promise<number> {
  const flags = [...original.flags.filter((f) => f.toLowerCase() !== '\\recent'), PENDING_KEYWORD];
  // literal8 (~{N+}, RFC 3516): outer header fields are copied byte for byte and may hold a NUL.
  const reply = await work.session.ok(`APPEND ${quote(mailbox.imap)} (${flags.join(' ')}) ${quote(original.internalDate)}`,
    `storing the encrypted copy of UID ${original.uid} in ${mailbox.name}`, copy);
  const uid = /\[APPENDUID \d+ (\d+)\]/i.exec(reply.text)?.[1];
  if (uid === undefined) throw temporary('dovecot.failed', `${mailbox.name}: no APPENDUID for the copy; original kept`);
  return Number(uid);
}

/** Consecutive runs of messages to fetch together (BATCH_MESSAGES, BATCH_BYTES). */
function* batches(messages: readonly StoredMessage[]): Generator<StoredMessage[]> {
  let batch: StoredMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    if (batch.length > 0 && (batch.length >= BATCH_MESSAGES || bytes + message.size > BATCH_BYTES)) {
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
  for (const batch of batches(originals)) {
    const texts = await fetchStoredMessages(work.tools, work.user, mailbox.name,
      batch.filter((m) => !copyOf.has(m.guid)).map((m) => m.uid));
    for (const original of batch) {
      const copy = copyOf.get(original.guid);
      if (copy !== undefined) {
        copyOf.delete(original.guid);
        counts.finished += 1;
        if (!work.dryRun) {
          await verifyCopy(work, mailbox, copy.uid, original.guid);
          await expunge(work, mailbox, original.uid);
          await clearPending(work, mailbox, copy.uid);
        }
      } else {
        const raw = texts.get(original.uid);
        texts.delete(original.uid); // released as the batch goes on
        const message = raw === undefined ? null : splitMessage(raw);
        if (message === null) counts.gone += 1;
        else if (detectProtection(message).kind !== 'none') counts.alreadyProtected += 1;
        else {
          counts.encrypted += 1;
          if (!work.dryRun) {
            const encrypted = withReplacesField(await encryptMessage(message, work.keys, work.hp), original.guid);
            const uid = await appendCopy(work, mailbox, original, encrypted);
            await verifyCopy(work, mailbox, uid, original.guid);
            await expunge(work, mailbox, original.uid);
            await clearPending(work, mailbox, uid);
          }
        }
      }
      done += 1;
      work.progress(done, total);
    }
  }
  // Pending copies whose original is already gone: only the keyword is left to clear.
  for (const copy of copyOf.values()) {
    counts.finished += 1;
    if (!work.dryRun) await clearPending(work, mailbox, copy.uid);
  }
  return { mailbox: mailbox.name, messages: total + copyOf.size, ...counts };
}
