// `pgpipe encrypt`: one message on stdin, the PGP/MIME result (or the unchanged input) on stdout.
// Never writes partial output: everything is computed first, then written once.
import type { PublicKey } from 'openpgp';
import type { Config } from '../config/load-config.js';
import { permanent, temporary } from '../errors.js';
import type { RecipientKeys } from '../keys/recipient-keys.js';
import { detectProtection } from '../message/detect-protection.js';
import { splitMessage } from '../message/split-message.js';
import { lookupRecipientKeys } from '../adapters/key-lookup.js';
import {
  encryptInline,
  encryptPgpMime,
  headerProtectionFrom,
  planEncryption,
  type EncryptMode,
} from '../encrypt/encrypt-message.js';

export interface EncryptResult {
  readonly output: Buffer;
  /** What happened, for a hand-run user; never message content. */
  readonly notes: readonly string[];
}

/**
 * Every recipient's keys through the filter's own lookup. An alias with several members counts as those members,
 * as several --to would: the keyed ones are encrypted to, the keyless ones noted, an unusable one is an error.
 */
export async function lookupKeys(config: Config, addresses: readonly string[]): Promise<RecipientKeys[]> {
  return (await lookupRecipientKeys(config, addresses)).flatMap((found) => found.members ?? [found.keys]);
}

/** gpgit's --encrypt-mode (inline-or-plain included: a person chose it on the command line) and --inline-flatten. */
export interface EncryptChoices {
  readonly mode: EncryptMode | 'inline-or-plain';
  readonly inlineFlatten: boolean;
}

export async function runEncrypt(
  raw: Buffer,
  to: readonly string[],
  config: Config,
  choices: EncryptChoices = { mode: config.encryptMode, inlineFlatten: config.inlineFlatten },
): Promise<EncryptResult> {
  if (to.length === 0) throw permanent('usage', 'encrypt needs at least one --to ADDRESS');
  const message = splitMessage(raw);
  const protection = detectProtection(message);
  if (protection.kind !== 'none') {
    return { output: raw, notes: [`already protected (${protection.kind}): passed through unchanged`] };
  }

  const found = await lookupKeys(config, to);
  const unusable = found.find((r) => r.kind === 'unusable');
  if (unusable?.kind === 'unusable') {
    throw temporary('key.unusable', `key for ${unusable.address} is unusable: ${unusable.reason}`);
  }

  const keys = new Map<string, PublicKey>();
  const notes: string[] = [];
  for (const r of found) {
    if (r.kind === 'no-key') notes.push(`${r.address}: no key`);
    if (r.kind !== 'keys') continue;
    for (const report of r.usable) if (report.key) keys.set(report.fingerprint, report.key);
    for (const report of r.unusable)
      notes.push(`${r.address}: skipped key ${report.fingerprint.slice(-16)} (${report.reason})`);
  }
  if (keys.size === 0) return { output: raw, notes: [...notes, 'no recipient has a key: passed through unchanged'] };

  const plan = planEncryption(message, choices.mode, choices.inlineFlatten);
  if (plan.kind === 'inline') {
    const output = await encryptInline(plan, [...keys.values()]);
    const how = plan.flattened ? 'inline PGP (HTML alternative dropped)' : 'inline PGP';
    return { output, notes: [...notes, `encrypted to ${keys.size} key(s) as ${how}`] };
  }
  if (choices.mode === 'inline-or-plain') {
    const note = 'not a single text/plain part: passed through UNENCRYPTED (inline-or-plain)';
    return { output: raw, notes: [...notes, note] };
  }
  const output = await encryptPgpMime(message, [...keys.values()], headerProtectionFrom(config));
  return { output, notes: [...notes, `encrypted to ${keys.size} key(s) as PGP/MIME`] };
}
