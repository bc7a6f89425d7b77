// `pgpipe encrypt`: one message on stdin, the PGP/MIME result (or the unchanged input) on stdout.
// Never writes partial output: everything is computed first, then written once.
import type { PublicKey } from 'openpgp';
import type { Config } from '../config/load-config.js';
import { permanent, temporary } from '../errors.js';
import { recipientKeys, type RecipientKeys } from '../keys/recipient-keys.js';
import { detectProtection } from '../message/detect-protection.js';
import { splitMessage } from '../message/split-message.js';
import { closeInBackground } from '../adapters/key-lookup.js';
import { openDb } from '../store/open-db.js';
import { resolveRecipients } from '../store/resolve-recipients.js';
import { encryptMessage, headerProtectionFrom } from '../encrypt/encrypt-message.js';

export interface EncryptResult {
  readonly output: Buffer;
  /** What happened, for a hand-run user; never message content. */
  readonly notes: readonly string[];
}

/** Looks up every recipient's keys; an unusable stored key is an error naming that recipient. */
export async function lookupKeys(config: Config, addresses: readonly string[]): Promise<RecipientKeys[]> {
  const db = await openDb(config);
  try {
    const records = await resolveRecipients(db, addresses, { delimiter: config.recipientDelimiter });
    return await Promise.all(records.map((record) => recipientKeys(record)));
  } finally {
    await closeInBackground(db);
  }
}

export async function runEncrypt(raw: Buffer, to: readonly string[], config: Config): Promise<EncryptResult> {
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
    for (const report of r.unusable) notes.push(`${r.address}: skipped key ${report.fingerprint.slice(-16)} (${report.reason})`);
  }
  if (keys.size === 0) return { output: raw, notes: [...notes, 'no recipient has a key: passed through unchanged'] };

  const output = await encryptMessage(message, [...keys.values()], headerProtectionFrom(config));
  return { output, notes: [...notes, `encrypted to ${keys.size} key(s)`] };
}
