// Runs Dovecot's own tools for `mailbox encrypt`: doveadm (as the configured binary, with `-c FILE` when given),
// always with the argument vector, never a shell string. stdout is returned whole (one message at most); stderr
// only names the failure.
import { spawn } from 'node:child_process';
import { permanent, temporary } from '../errors.js';

export interface DovecotTools {
  /** The doveadm binary (default `doveadm` on PATH). */
  readonly doveadm: string;
  /** Dovecot's config file (`doveadm -c FILE`); undefined: Dovecot's default. */
  readonly configFile: string | undefined;
}

/** doveadm's exit status for an unknown user (EX_NOUSER): no use retrying. */
const EX_NOUSER = 67;

export function doveadmArgs(tools: DovecotTools, args: readonly string[]): string[] {
  return [...(tools.configFile === undefined ? [] : ['-c', tools.configFile]), ...args];
}

/** One doveadm call; resolves with its stdout, or rejects with doveadm's first error line. */
export function doveadm(tools: DovecotTools, args: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(tools.doveadm, doveadmArgs(tools, args), { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => reject(temporary('dovecot.failed', `cannot run ${tools.doveadm}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(out));
      const said =
        Buffer.concat(err)
          .toString('utf8')
          .split('\n')
          .find((line) => line.trim() !== '') ?? '';
      const what = `doveadm ${args.slice(0, 2).join(' ')} failed (${code ?? signal})${said ? `: ${said.trim()}` : ''}`;
      reject(code === EX_NOUSER ? permanent('not-found', what) : temporary('dovecot.failed', what));
    });
  });
}

/** The user's mailboxes as Dovecot names them (UTF-8) with their IMAP (modified UTF-7) names. */
export async function listMailboxes(tools: DovecotTools, user: string): Promise<{ name: string; imap: string }[]> {
  const lines = (bytes: Buffer): string[] =>
    bytes
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '');
  const names = lines(await doveadm(tools, ['mailbox', 'list', '-8', '-u', user]));
  if (names.length === 0) return [];
  const imap = lines(await doveadm(tools, ['mailbox', 'mutf7', '-8', ...names]));
  if (imap.length !== names.length) {
    throw temporary('dovecot.failed', 'doveadm mailbox mutf7 gave an unexpected answer');
  }
  return names.map((name, i) => ({ name, imap: imap[i] as string }));
}

const TEXT_PREFIX = Buffer.from('text:\n', 'latin1');
const RECORD_SEPARATOR = Buffer.from('\f\n', 'latin1');
const RECORD_HEAD = /^uid: (\d+)\nsize\.physical: (\d+)\ntext:\n/;

/**
 * One stored message byte for byte, as Dovecot keeps it (`doveadm fetch text`: no CRLF conversion, NULs kept,
 * unlike IMAP's BODY[]). Null when the UID is gone (expunged meanwhile).
 */
export async function fetchStoredMessage(
  tools: DovecotTools,
  user: string,
  mailbox: string,
  uid: number,
): Promise<Buffer | null> {
  const out = await doveadm(tools, pagerFetch(user, 'text', mailbox, String(uid)));
  if (out.length === 0) return null;
  if (!out.subarray(0, TEXT_PREFIX.length).equals(TEXT_PREFIX)) {
    throw temporary('dovecot.failed', 'doveadm fetch text gave an unexpected answer');
  }
  return out.subarray(TEXT_PREFIX.length);
}

/** `doveadm -f pager fetch` of `fields` for the UID set `uids` in one mailbox of one user. */
function pagerFetch(user: string, fields: string, mailbox: string, uids: string): string[] {
  return ['-f', 'pager', 'fetch', '-u', user, fields, 'mailbox', mailbox, 'uid', uids];
}

/**
 * Pure: doveadm's pager output for `uid size.physical text` of several messages, records split by "\f\n". The
 * size says where each text ends (a message may hold "\f\n" itself); null when the output does not add up.
 */
export function parseFetchedTexts(out: Buffer): Map<number, Buffer> | null {
  const texts = new Map<number, Buffer>();
  let at = 0;
  while (at < out.length) {
    const head = RECORD_HEAD.exec(out.subarray(at, at + 100).toString('latin1'));
    if (head === null) return null;
    const start = at + (head[0]?.length ?? 0);
    const end = start + Number(head[2]);
    if (end > out.length) return null;
    texts.set(Number(head[1]), out.subarray(start, end));
    if (end === out.length) break;
    if (!out.subarray(end, end + RECORD_SEPARATOR.length).equals(RECORD_SEPARATOR)) return null;
    at = end + RECORD_SEPARATOR.length;
  }
  return texts;
}

/**
 * Several stored messages in one doveadm call (a call costs ~30 ms; the messages are small). A UID missing from
 * the result is gone. Should the sizes not add up, each message is fetched on its own.
 */
export async function fetchStoredMessages(
  tools: DovecotTools,
  user: string,
  mailbox: string,
  uids: readonly number[],
): Promise<Map<number, Buffer>> {
  if (uids.length === 0) return new Map();
  const out = await doveadm(tools, pagerFetch(user, 'uid size.physical text', mailbox, uids.join(',')));
  const parsed = parseFetchedTexts(out);
  if (parsed !== null && [...parsed.keys()].every((uid) => uids.includes(uid))) return parsed;
  const texts = new Map<number, Buffer>();
  for (const uid of uids) {
    const text = await fetchStoredMessage(tools, user, mailbox, uid);
    if (text !== null) texts.set(uid, text);
  }
  return texts;
}

/** Rewrites dovecot.index.cache without the records of expunged messages (their Subject, From, snippets). */
export async function purgeCache(tools: DovecotTools, user: string, mailbox: string): Promise<void> {
  await doveadm(tools, ['mailbox', 'cache', 'purge', '-u', user, mailbox]);
}
