// Says whether a message arriving at final delivery already carries this server's own spam verdict, so
// `pgpipe deliver` need not run spamc again (deliver_spam_check = unless-scanned). Pure.
//
// What proves it: pgpipe filter removes every X-Spam-* field before spamc, so the X-Spam-* fields of what it
// re-injects are spamd's. It re-injects with sendmail as its own Unix user, and Postfix's pickup puts
// "Received: by HOST (Postfix, from userid UID)" on top. Every later Postfix hop that could add text (smtpd, another
// pickup) puts its own Received above that, and no sender can write a field above Postfix's own. So: the FIRST
// Received field is pickup's with OUR uid (only pgpipe runs as that user), and spamd's headers are present.
// Anything else (a local user's sendmail, a bounce, mail that skipped the filter, spamd down at filter time) is
// scanned again with forged X-Spam-* removed, like filter does.
import { spamdVerdict } from '../filter/check-spam.js';
import type { SpamSummary } from '../mail-path/outcome.js';
import { firstFieldValue } from '../message/header-fields.js';
import { splitMessage } from '../message/split-message.js';

const PICKUP_RECEIVED = /^by \S+ \([^()]*, from userid (\d+)\)\s+id \S+;/;

/** The filter's verdict when the message was re-injected by pgpipe running as `uid`, else null. */
export function filterVerdict(raw: Buffer, uid: number | null): SpamSummary | null {
  if (uid === null) return null;
  // The first Received field, unfolded. Milters may prepend other fields; only Received counts.
  const received = firstFieldValue(splitMessage(raw), 'received');
  const match = received === null ? null : PICKUP_RECEIVED.exec(received);
  if (match === null || Number(match[1]) !== uid) return null;
  return spamdVerdict(raw);
}
