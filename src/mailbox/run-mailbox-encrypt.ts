// `pgpipe mailbox encrypt`: the user's keys through the one key lookup every command uses (refused, with the
// reason, before Dovecot is touched), the mailboxes Dovecot lists (or those named), one IMAP session for all of
// them, encryptMailbox per mailbox, then a cache purge per mailbox so dovecot.index.cache keeps nothing of the
// expunged originals.
import type { PublicKey } from 'openpgp';
import { lookupRecipientKeys } from '../adapters/key-lookup.js';
import type { Config } from '../config/load-config.js';
import { encryptOptionsFrom } from '../encrypt/encrypt-message.js';
import { permanent } from '../errors.js';
import { listMailboxes, purgeCache, type DovecotTools } from './doveadm.js';
import { encryptMailbox, type MailboxSummary } from './encrypt-mailbox.js';
import { ImapSession } from './imap-session.js';
import { parseValues } from './imap-tokens.js';
import type { Progress } from './progress.js';

export interface MailboxEncryptOptions {
  readonly user: string;
  /** Names as `doveadm mailbox list` shows them; empty: every mailbox. */
  readonly mailboxes: readonly string[];
  readonly dryRun: boolean;
  /** Messages per batch (one fetch, one APPEND, one expunge). */
  readonly batch: number;
  readonly tools: DovecotTools;
}

export interface MailboxEncryptResult {
  readonly user: string;
  readonly dryRun: boolean;
  readonly keys: readonly string[];
  readonly mailboxes: readonly MailboxSummary[];
  readonly seconds: number;
}

/** The user's usable keys, or a refusal naming why (exit 1; nothing in the mail store touched). */
export async function userKeys(config: Config, user: string): Promise<{ keys: PublicKey[]; fingerprints: string[] }> {
  const [found] = await lookupRecipientKeys(config, [user]);
  const refuse = (why: string): never => {
    throw permanent('key.missing', `${user}: ${why}; nothing changed`);
  };
  if (found === undefined || found.members !== null) return refuse('not a users row (an alias with several members)');
  const keys = found.keys;
  if (keys.kind === 'no-key') return refuse('no key stored (users.pgpkey empty, or no such user)');
  if (keys.kind === 'unusable') return refuse(`stored key unusable: ${keys.reason}`);
  if (keys.user.toLowerCase() !== user.toLowerCase()) return refuse(`not a users row (its mail goes to ${keys.user})`);
  const usable = keys.usable.filter((report) => report.key !== null);
  if (usable.length === 0) return refuse('stored key unusable: no parsed key');
  return { keys: usable.map((report) => report.key as PublicKey), fingerprints: usable.map((r) => r.fingerprint) };
}

/** The prefixes of the "other users" and "shared" namespaces (RFC 2342) the session announces. */
export async function foreignPrefixes(session: ImapSession): Promise<string[]> {
  const reply = await session.ok('asking for the namespaces', 'NAMESPACE');
  const line = reply.untagged.find((raw) => /^\* NAMESPACE /i.test(raw.toString('latin1')));
  return line === undefined ? [] : namespacePrefixes(line);
}

/** Pure: the non-personal prefixes of a `* NAMESPACE personal others shared` response. */
export function namespacePrefixes(line: Buffer): string[] {
  const [, , , others, shared] = parseValues(line);
  return [others, shared]
    .flatMap((list) => (Array.isArray(list) ? list : []))
    .flatMap((entry) => (Array.isArray(entry) && typeof entry[0] === 'string' ? [entry[0]] : []))
    .filter((prefix) => prefix !== '');
}

export async function runMailboxEncrypt(
  options: MailboxEncryptOptions,
  config: Config,
  progress: Progress,
): Promise<MailboxEncryptResult> {
  const started = Date.now();
  const { keys, fingerprints } = await userKeys(config, options.user);
  const listed = await listMailboxes(options.tools, options.user);
  const session = await ImapSession.open(options.tools, options.user);
  const summaries: MailboxSummary[] = [];
  try {
    // Only the user's own mail: another user's shared mailbox must never be encrypted to this user's key.
    const foreign = await foreignPrefixes(session);
    const all = listed.filter((box) => !foreign.some((prefix) => box.imap.startsWith(prefix)));
    const unknown = options.mailboxes.filter((name) => !all.some((box) => box.name === name));
    if (unknown.length > 0) {
      throw permanent(
        'usage',
        `no mailbox ${unknown.map((n) => JSON.stringify(n)).join(', ')} of ${options.user}'s ` +
          `own (doveadm mailbox list -u ${options.user} names them)`,
      );
    }
    const chosen = options.mailboxes.length === 0 ? all : all.filter((box) => options.mailboxes.includes(box.name));
    for (const mailbox of chosen) {
      const summary = await encryptMailbox(
        {
          session,
          tools: options.tools,
          user: options.user,
          keys,
          encryption: encryptOptionsFrom(config),
          dryRun: options.dryRun,
          batch: options.batch,
          progress: (done, total) => progress.update(mailbox.name, done, total),
        },
        mailbox,
      );
      if (summary === null) continue;
      // Always, also when this run changed nothing: an earlier run may have died between expunge and purge.
      if (!options.dryRun) await purgeCache(options.tools, options.user, mailbox.name);
      summaries.push(summary);
      progress.finish(mailbox.name, `pgpipe: ${formatSummary(summary, options.dryRun)}`);
    }
  } finally {
    await session.close();
  }
  return {
    user: options.user,
    dryRun: options.dryRun,
    keys: fingerprints,
    mailboxes: summaries,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

export function formatSummary(s: MailboxSummary, dryRun: boolean): string {
  const verb = dryRun ? 'to encrypt' : 'encrypted';
  const extra = [
    s.finished > 0 ? `${s.finished} finished from an interrupted run` : '',
    s.gone > 0 ? `${s.gone} expunged meanwhile` : '',
  ].filter(Boolean);
  return (
    `${s.mailbox}: ${s.messages} message(s), ${s.encrypted} ${verb}, ${s.alreadyProtected} already protected` +
    (extra.length > 0 ? `, ${extra.join(', ')}` : '')
  );
}

export function formatResult(result: MailboxEncryptResult): string {
  const total = (key: 'messages' | 'encrypted' | 'alreadyProtected' | 'finished'): number =>
    result.mailboxes.reduce((sum, s) => sum + s[key], 0);
  const lines = result.mailboxes.map((s) => `  ${formatSummary(s, result.dryRun)}`);
  const verb = result.dryRun ? 'would encrypt' : 'encrypted';
  return (
    `${result.user}: ${result.mailboxes.length} mailbox(es), ${total('messages')} message(s); ${verb} ` +
    `${total('encrypted')}, ${total('alreadyProtected')} already protected` +
    `${total('finished') > 0 ? `, ${total('finished')} finished from an interrupted run` : ''}` +
    ` (${result.seconds} s)${result.dryRun ? ', dry run: nothing changed' : ''}\n${lines.join('\n')}\n`
  );
}
