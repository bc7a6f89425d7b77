// The interfaces runDeliver talks through. The key store, spamc and encryptor are the filter's own ports (same
// adapters); only the hand-off differs: LMTP to Dovecot instead of sendmail. Types only.
import type { Encryptor, Envelope, FilterPolicy, KeyLookup, Spamc } from '../filter/ports.js';
import type { Outcome } from '../mail-path/outcome.js';

/** One recipient's final answer from the LMTP server (RCPT TO, or its own reply after DATA). */
export interface LmtpReply {
  readonly recipient: string;
  /** Basic reply code, e.g. 250, 451, 550. */
  readonly code: number;
  /** RFC 3463 enhanced code from the reply (e.g. 5.1.1), or null when the server sent none. */
  readonly enhanced: string | null;
  /** The rest of the server's text, one line, printable ASCII only, short. */
  readonly text: string;
}

export type LmtpResult =
  /** Every recipient of the transaction got an answer (2xx, 4xx or 5xx each). */
  | { readonly kind: 'replied'; readonly replies: readonly LmtpReply[] }
  /**
   * No per-recipient answer for everyone: could not connect, timed out, the connection broke, a session-level
   * refusal (greeting, LHLO, MAIL FROM, DATA). What was stored is unknown, so this is always temporary.
   */
  | { readonly kind: 'failed'; readonly reason: string };

/**
 * Postfix's XFORWARD attributes (XFORWARD_README): the original client, for the next hop's own logs. IDENT is the
 * upstream queue id; ADDR is the bare address, not in [] (XFORWARD_README).
 */
export type XForwardName = 'NAME' | 'ADDR' | 'PORT' | 'PROTO' | 'HELO' | 'IDENT' | 'SOURCE';
export type XForward = Readonly<Partial<Record<XForwardName, string>>>;

export interface Lmtp {
  /**
   * One LMTP (or SMTP, see src/adapters/next-hop.ts) transaction for `envelope`. Never throws; must close its
   * connection when `signal` aborts. `forward.xforward` is sent only to a next hop that offers XFORWARD.
   */
  deliver(
    payload: Buffer,
    envelope: Envelope,
    signal: AbortSignal,
    forward?: { readonly xforward?: XForward },
  ): Promise<LmtpResult>;
}

/** Protocol-neutral names for the same port: `pgpipe serve` forwards through it over LMTP or SMTP. */
export type NextHop = Lmtp;
export type NextHopReply = LmtpReply;
export type NextHopResult = LmtpResult;

export interface DeliverPolicy extends FilterPolicy {
  /** always; never; or skip spamc when the message carries our own filter's verdict (see scanned-by-filter.ts). */
  readonly deliverSpamCheck: 'always' | 'never' | 'unless-scanned';
}

export interface DeliverDeps {
  readonly keys: KeyLookup;
  readonly spamc: Spamc;
  readonly lmtp: Lmtp;
  readonly encryptor: Encryptor;
  readonly now: () => number;
  /** Our Unix uid: pgpipe filter re-injects as the same user, which Postfix's pickup records in Received. */
  readonly uid: number | null;
}

export interface DeliverInput {
  readonly raw: Buffer;
  readonly envelope: Envelope;
  readonly policy: DeliverPolicy;
  readonly deadlineAt: number;
  /** serve: the original client as Postfix's XFORWARD told it, passed on to a next hop that takes XFORWARD. */
  readonly xforward?: XForward;
}

/** One run with what the next hop said per recipient (serve answers each recipient from it; pipe(8) cannot). */
export interface DeliveryRun {
  readonly outcome: Outcome;
  /** Envelope recipients every copy of which the next hop answered 2xx. */
  readonly accepted: ReadonlySet<string>;
  /** The next hop's answers, each named by the envelope recipient it serves. */
  readonly replies: readonly LmtpReply[];
}
