// The core shared by `pgpipe encrypt` and `pgpipe filter`: one message and a set of keys in, PGP/MIME out.
// Callers decide first whether to encrypt at all (detectProtection, key lookup). No I/O.
import type { PublicKey } from 'openpgp';
import { encryptPayloadArmor } from '../keys/encrypt-payload.js';
import { buildInnerPayload } from '../message/build-inner-payload.js';
import { buildOuterMessage } from '../message/build-outer-message.js';
import type { HeaderProtectionOptions, SplitMessage } from '../message/types.js';
import type { Config } from '../config/load-config.js';

export function headerProtectionFrom(config: Config): HeaderProtectionOptions {
  return {
    enabled: config.protectHeaders,
    subjectPlaceholder: config.keepSubject ? null : config.subjectPlaceholder,
  };
}

/** Encrypts `message` to every key in `keys` (one PKESK each) and returns the RFC 3156 message. */
export async function encryptMessage(
  message: SplitMessage,
  keys: readonly PublicKey[],
  hp: HeaderProtectionOptions,
): Promise<Buffer> {
  const inner = buildInnerPayload(message, hp);
  // Large payloads come back as armor chunks (streamed), so the 20 MB case never holds one big armor string.
  const armored = await encryptPayloadArmor(inner, [...keys]);
  return buildOuterMessage(message, armored, hp);
}
