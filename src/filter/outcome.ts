// What one filter run ended with, and the only mapping from that to an exit status and a DSN code.
// Pure. Unknown errors are temporary (75); only a PgpipeError with temporary=false rejects (69).
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

interface OutcomeBase {
  readonly recipients: readonly RecipientResult[];
  readonly spam: SpamSummary | null;
}

export type Outcome =
  | (OutcomeBase & { readonly kind: 'delivered'; readonly sendmailCalls: number })
  | (OutcomeBase & {
      readonly kind: 'deferred' | 'rejected';
      readonly code: FailureCode;
      /** RFC 3463 code; its class agrees with the kind (4 deferred, 5 rejected). */
      readonly dsn: string;
      /** Short, one line; names at most the recipient concerned; never content or key material. */
      readonly reason: string;
    });

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
  return text.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').slice(0, max);
}

export function failure(
  kind: 'deferred' | 'rejected',
  code: FailureCode,
  reason: string,
  base: OutcomeBase = { recipients: [], spam: null },
): Failure {
  return { ...base, kind, code, dsn: dsnFor(code, kind === 'deferred'), reason: oneLine(reason) };
}

/** Any thrown value → a failure outcome. Unknown means temporary: Postfix keeps the mail and retries. */
export function outcomeFromError(error: unknown, base?: OutcomeBase): Failure {
  if (isPgpipeError(error)) return failure(error.temporary ? 'deferred' : 'rejected', error.code, error.message, base);
  return failure('deferred', 'internal', 'internal error', base);
}

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
