// What one mail-path run (filter, and every pipe(8) mode after it) ended with, and the only mapping from that to an
// exit status and a DSN code. Pure. Only a named policy decision bounces (69): a rejection must carry a PolicyCode,
// and every thrown error, whatever its class or `temporary` flag, becomes a deferral (75).
import { isPgpipeError, type FailureCode } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

/** What happened to one envelope recipient. */
export interface RecipientResult {
  readonly recipient: string;
  readonly action: 'encrypted' | 'as-sent' | 'unchanged' | 'deferred' | 'rejected' | 'not-sent' | 'expanded';
  /** Why it is not encrypted (or null when it is). */
  readonly why: 'no-key' | 'unusable-key' | 'protected' | 'policy' | null;
  /** Upper-case fingerprints of the keys it was encrypted to. */
  readonly fingerprints: readonly string[];
  /** For 'expanded' (an alias whose members need different copies): what each member address got. */
  readonly members?: readonly RecipientResult[];
}

export type SpamSummary =
  | { readonly kind: 'scanned'; readonly spam: boolean; readonly score: string | null }
  | { readonly kind: 'unscanned'; readonly reason: 'disabled' | 'too-big' | 'unavailable' | 'empty' };

/**
 * The decisions allowed to bounce a message: those named by the setting that made it (missing_key=reject,
 * unusable_key=reject, oversize=reject), and the final store's own 5xx (deliver: Dovecot refused the recipient).
 */
export type PolicyCode = 'key.missing' | 'key.unusable' | 'size.exceeded' | 'lmtp.rejected';
const POLICY_CODES: ReadonlySet<FailureCode> = new Set<PolicyCode>([
  'key.missing',
  'key.unusable',
  'size.exceeded',
  'lmtp.rejected',
]);

interface OutcomeBase {
  readonly recipients: readonly RecipientResult[];
  readonly spam: SpamSummary | null;
}

export type Outcome =
  /** handOffs: copies handed on (sendmail runs for filter, LMTP transactions for deliver). */
  | (OutcomeBase & { readonly kind: 'delivered'; readonly handOffs: number })
  | (OutcomeBase & FailureDetail & { readonly kind: 'deferred'; readonly code: FailureCode })
  | (OutcomeBase & FailureDetail & { readonly kind: 'rejected'; readonly code: PolicyCode });

interface FailureDetail {
  /** RFC 3463 code; its class agrees with the kind (4 deferred, 5 rejected). */
  readonly dsn: string;
  /** Short, one line; names at most the recipient concerned; never content or key material. */
  readonly reason: string;
}

export type Failure = Extract<Outcome, { kind: 'deferred' | 'rejected' }>;

/** Detail digits per failure code; the class digit comes from temporary/permanent. */
const DETAIL: Partial<Record<FailureCode, string>> = {
  'config.invalid': '3.5', // system incorrectly configured
  usage: '3.5',
  'key.unusable': '7.5', // cryptographic failure
  'encrypt.failed': '7.5',
  'key.missing': '7.1', // delivery not authorised by policy
  'size.exceeded': '3.4', // message too big for system
  'input.too-large': '3.4',
};

export function dsnFor(code: FailureCode, temporary: boolean): string {
  return `${temporary ? 4 : 5}.${DETAIL[code] ?? '3.0'}`;
}

/** One printable line, no longer than Postfix will show (its buffer is 4095; we stay far below). */
export function oneLine(text: string, max = 300): string {
  return text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, max);
}

const isPolicyCode = (code: FailureCode): code is PolicyCode => POLICY_CODES.has(code);

/**
 * A failure outcome. 'rejected' is only for a policy decision (the type asks for a PolicyCode); called with any
 * other code (from untyped code, or a cast) it still builds a deferral, so nothing bounces by accident.
 */
export function failure(kind: 'deferred', code: FailureCode, reason: string, base?: OutcomeBase): Failure;
export function failure(kind: 'deferred' | 'rejected', code: PolicyCode, reason: string, base?: OutcomeBase): Failure;
export function failure(
  kind: 'deferred' | 'rejected',
  code: FailureCode,
  reason: string,
  base: OutcomeBase = { recipients: [], spam: null },
): Failure {
  const line = oneLine(reason);
  if (kind === 'rejected' && isPolicyCode(code)) return { ...base, kind, code, dsn: dsnFor(code, false), reason: line };
  return { ...base, kind: 'deferred', code, dsn: dsnFor(code, true), reason: line };
}

/**
 * `outcome` with the DSN code the final store gave (deliver: Dovecot's enhanced code), when its class agrees with the
 * kind (4 deferred, 5 rejected); otherwise it keeps its own, so a foreign code never turns a deferral into a bounce.
 */
export function withDsn(outcome: Failure, dsn: string): Failure {
  const klass = outcome.kind === 'rejected' ? '5' : '4';
  return /^[45]\.\d{1,3}\.\d{1,3}$/.test(dsn) && dsn[0] === klass ? { ...outcome, dsn } : outcome;
}

/**
 * Any thrown value → a deferral: Postfix keeps the mail and retries. A PgpipeError keeps its code and message (its
 * `temporary` flag does not matter here: a bounce is never thrown, it is decided); anything else is "internal error".
 */
export function outcomeFromError(error: unknown, base?: OutcomeBase): Failure {
  if (isPgpipeError(error)) return failure('deferred', error.code, error.message, base);
  return failure('deferred', 'internal', 'internal error', base);
}

/** The exit status pipe(8) reads: 0 delivered, 75 defer, 69 bounce (only a policy rejection, see failure()). */
export function exitCodeFor(outcome: Outcome): ExitCode {
  switch (outcome.kind) {
    case 'delivered':
      return ExitCode.ok;
    case 'deferred':
      return ExitCode.tempFail;
    case 'rejected':
      return ExitCode.unavailable;
  }
}
