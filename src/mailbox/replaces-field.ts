// Pure: the outer header field that ties an encrypted copy to the original it replaces, `X-Pgpipe-Replaces: GUID`.
// It names only Dovecot's GUID of the original (no plaintext, no hash of it). A header alone proves nothing (any
// sender can write one), so a copy counts as ours only while it also carries PENDING_KEYWORD, which only an IMAP
// session of the mail user can set (see encrypt-mailbox.ts).
import { permanent } from '../errors.js';
import { splitMessage } from '../message/split-message.js';

export const REPLACES_FIELD = 'X-Pgpipe-Replaces';
/** Set on the copy by the same APPEND that stores it; removed once the original is expunged. */
export const PENDING_KEYWORD = '$PgpipePending';

const GUID = /^[\x21-\x7e]{1,256}$/;

/** `message` with the field first in its header (after a leading mbox `From ` line), in the message's line ends. */
export function withReplacesField(message: Buffer, guid: string): Buffer {
  if (!GUID.test(guid)) throw permanent('internal', 'unexpected Dovecot GUID');
  const split = splitMessage(message);
  const envelope = split.envelope ?? Buffer.alloc(0);
  const field = Buffer.from(`${REPLACES_FIELD}: ${guid}${split.eol}`, 'latin1');
  return Buffer.concat([envelope, field, message.subarray(envelope.length)]);
}

/** The GUID a header section (or a whole message) names in its first X-Pgpipe-Replaces field, or null. */
export function replacesOf(header: Buffer): string | null {
  const field = splitMessage(header).fields.find((f) => f.lower === REPLACES_FIELD.toLowerCase());
  if (field === undefined) return null;
  const text = field.raw.toString('latin1');
  const value = text
    .slice(text.indexOf(':') + 1)
    .replace(/\r?\n[ \t]/g, ' ')
    .trim();
  return GUID.test(value) ? value : null;
}
