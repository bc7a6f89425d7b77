// The core shared by `pgpipe encrypt` and the pipe modes (filter, deliver): one message and a set of keys in, the
// encrypted message out: RFC 3156 PGP/MIME, or inline PGP when the encrypt mode asks for it and the message allows.
// Callers decide first whether to encrypt at all (detectProtection, key lookup). No I/O.
import type { PublicKey } from 'openpgp';
import { encryptPayloadArmor } from '../keys/encrypt-payload.js';
import { buildInnerPayload } from '../message/build-inner-payload.js';
import { buildOuterMessage } from '../message/build-outer-message.js';
import { flattenAlternative } from '../message/flatten-alternative.js';
import { buildInlineMessage, inlineText } from '../message/inline-pgp.js';
import type { HeaderProtectionOptions, SplitMessage } from '../message/types.js';
import type { Config } from '../config/load-config.js';

/**
 * gpgit's --encrypt-mode. The mail-path modes take only the two that always encrypt; `inline-or-plain` (leave a
 * message inline PGP cannot carry in plaintext) exists only on `pgpipe encrypt`'s command line (see planEncryption).
 */
export type EncryptMode = 'pgpmime' | 'prefer-inline';

export interface EncryptOptions {
  readonly hp: HeaderProtectionOptions;
  readonly mode: EncryptMode;
  /** gpgit's --inline-flatten: drop the HTML half of a text+HTML alternative so inline can apply. */
  readonly inlineFlatten: boolean;
}

export function headerProtectionFrom(config: Config): HeaderProtectionOptions {
  return {
    enabled: config.protectHeaders,
    subjectPlaceholder: config.keepSubject ? null : config.subjectPlaceholder,
  };
}

/** Everything encryptMessage needs from the Config: the same for every mode that encrypts. */
export function encryptOptionsFrom(config: Config): EncryptOptions {
  return { hp: headerProtectionFrom(config), mode: config.encryptMode, inlineFlatten: config.inlineFlatten };
}

/** How a message will be encrypted: inline PGP (of `message`, possibly flattened, and its text) or PGP/MIME. */
export type EncryptionPlan =
  | { readonly kind: 'inline'; readonly message: SplitMessage; readonly text: Buffer; readonly flattened: boolean }
  | { readonly kind: 'pgpmime' };

/** Inline when the mode prefers it and the message (flattened if asked and needed) is one text/plain part. */
export function planEncryption(
  message: SplitMessage,
  mode: EncryptMode | 'inline-or-plain',
  inlineFlatten: boolean,
): EncryptionPlan {
  if (mode === 'pgpmime') return { kind: 'pgpmime' };
  const text = inlineText(message);
  if (text !== null) return { kind: 'inline', message, text, flattened: false };
  const flat = inlineFlatten ? flattenAlternative(message) : null;
  const flatText = flat === null ? null : inlineText(flat);
  if (flat !== null && flatText !== null) return { kind: 'inline', message: flat, text: flatText, flattened: true };
  return { kind: 'pgpmime' };
}

/** Inline PGP of a planned message: its text as one armored PGP MESSAGE in place of the body. */
export async function encryptInline(
  plan: Extract<EncryptionPlan, { kind: 'inline' }>,
  keys: readonly PublicKey[],
): Promise<Buffer> {
  return buildInlineMessage(plan.message, await encryptPayloadArmor(plan.text, [...keys]));
}

/** RFC 3156 PGP/MIME of `message` to every key in `keys` (one PKESK each). */
export async function encryptPgpMime(
  message: SplitMessage,
  keys: readonly PublicKey[],
  hp: HeaderProtectionOptions,
): Promise<Buffer> {
  const inner = buildInnerPayload(message, hp);
  // Large payloads come back as armor chunks (streamed), so the 20 MB case never holds one big armor string.
  const armored = await encryptPayloadArmor(inner, [...keys]);
  return buildOuterMessage(message, armored, hp);
}

/**
 * The least encryptMessage can return, without encrypting: armor is at least 4/3 of the bytes it encrypts, which
 * for PGP/MIME is at least the body, and for inline PGP the decoded text (a base64 body decodes to 3/4 of itself,
 * so the inline result can be smaller than the body: the PGP/MIME bound would refuse a message that fits).
 */
export function minimumEncryptedSize(message: SplitMessage, options: EncryptOptions): number {
  const plan = planEncryption(message, options.mode, options.inlineFlatten);
  const encrypted = plan.kind === 'inline' ? plan.text.length : message.body.length;
  return Math.ceil((encrypted * 4) / 3);
}

/**
 * Encrypts `message` to every key in `keys` (one PKESK each): inline PGP when `options.mode` prefers it and the
 * message is one text/plain part (planEncryption), else PGP/MIME. Never plaintext: that is inline-or-plain, which
 * only `pgpipe encrypt` offers (src/commands/run-encrypt.ts).
 */
export async function encryptMessage(
  message: SplitMessage,
  keys: readonly PublicKey[],
  options: EncryptOptions,
): Promise<Buffer> {
  const plan = planEncryption(message, options.mode, options.inlineFlatten);
  return plan.kind === 'inline' ? encryptInline(plan, keys) : encryptPgpMime(message, keys, options.hp);
}
