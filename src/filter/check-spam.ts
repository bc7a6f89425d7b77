// Runs the spam check through the Spamc port and says whether the message was really scanned.
// Scanned is proven by spamd's own headers: the input had every X-Spam-* removed first, so any found are spamd's.
import { firstFieldValue } from '../message/header-fields.js';
import { splitMessage } from '../message/split-message.js';
import type { ChildResult, Spamc } from './ports.js';
import type { SpamSummary } from '../mail-path/outcome.js';

/** Header fields a sender could forge to fake a spam verdict (SpamAssassin deletes these too before scanning). */
export const isSpamField = (lower: string): boolean => lower.startsWith('x-spam-');

export interface SpamCheck {
  /** The message to continue with: spamc's output when scanned, else the (X-Spam-* free) input. */
  readonly raw: Buffer;
  readonly summary: SpamSummary;
  /** Why spamd could not scan (for the log and a spamd_down=defer reason), or null. */
  readonly failure: string | null;
}

/** The verdict in spamd's own headers, or null without any. Only meaningful where every X-Spam-* is spamd's. */
export function spamdVerdict(output: Buffer): SpamSummary | null {
  const header = splitMessage(output);
  const status = firstFieldValue(header, 'x-spam-status');
  const checker = firstFieldValue(header, 'x-spam-checker-version');
  if (status === null && checker === null) return null;
  const flag = firstFieldValue(header, 'x-spam-flag');
  const spam = /^yes\b/i.test(flag ?? '') || /^yes\b/i.test(status ?? '');
  const score = /\bscore=(-?\d+(?:\.\d+)?)/.exec(status ?? '')?.[1] ?? null;
  return { kind: 'scanned', spam, score };
}

/** Pure: what one spamc run (spamc -x, i.e. no silent fallback) means. */
export function interpretSpamc(input: Buffer, result: ChildResult): SpamCheck {
  const unavailable = (why: string): SpamCheck => ({
    raw: input,
    summary: { kind: 'unscanned', reason: 'unavailable' },
    failure: why,
  });
  if (result.failure === 'spawn') return unavailable('spamc could not be started');
  if (result.failure === 'timeout') return unavailable('spamc timed out');
  if (result.failure === 'cancelled') return unavailable('spamc cancelled');
  if (result.exitCode !== 0) {
    return unavailable(
      result.exitCode === null ? `spamc killed by ${result.signal ?? 'a signal'}` : `spamc exit ${result.exitCode}`,
    );
  }
  // Its stdout *is* the message: one it did not read whole, or one a leftover process still held open after spamc
  // exited, may be cut short, so it is never used (the input goes on unscanned, or waits, per --spamd-down).
  if (result.failure === 'io') return unavailable('spamc did not read the whole message');
  if (result.outputEnded === false) return unavailable('spamc output still held open after it exited');
  const output = result.stdout;
  const verdict = spamdVerdict(output);
  if (verdict !== null) return { raw: output, summary: verdict, failure: null };
  // spamc -x exits 0 with the input unchanged only when the message is over its -s size limit (bug 5412).
  if (output.equals(input)) return { raw: input, summary: { kind: 'unscanned', reason: 'too-big' }, failure: null };
  return unavailable('spamc output carries no spamd headers');
}

/** Seconds for spamc -t: half of what is left before our deadline, at least 1. */
export function spamcTimeoutSeconds(msLeft: number): number {
  return Math.max(1, Math.floor(msLeft / 2000));
}

export async function checkSpam(input: Buffer, spamc: Spamc, msLeft: number, signal: AbortSignal): Promise<SpamCheck> {
  if (input.length === 0) return { raw: input, summary: { kind: 'unscanned', reason: 'empty' }, failure: null };
  const result = await spamc.run(input, spamcTimeoutSeconds(msLeft), signal);
  return interpretSpamc(input, result);
}
