// One error type for every failure pgpipe anticipates. `temporary` decides a hand-run admin command's status (75 vs
// 1). In a mail-path mode every thrown error defers, whatever its flag: only a policy decision bounces, and it is an
// Outcome (src/mail-path/outcome.ts), never a throw.

export type FailureCode =
  | 'usage' // bad command line (admin/hand use)
  | 'config.invalid'
  | 'input.read-failed'
  | 'input.too-large'
  | 'db.unavailable' // connect/timeout/query failure: always temporary
  | 'db.schema' // tables missing or wrong
  | 'key.unusable' // a recipient's stored key cannot be used (names recipient + problem)
  | 'key.missing' // policy rejection/deferral for a recipient without a key
  | 'key.invalid' // admin: a key refused on write
  | 'encrypt.failed'
  | 'spam.check-failed'
  | 'sendmail.failed'
  | 'lmtp.failed' // deliver: Dovecot unreachable, slow, 4xx, or the connection broke
  | 'lmtp.rejected' // deliver: Dovecot's own 5xx for a recipient (its enhanced code becomes ours)
  | 'size.exceeded'
  | 'deadline.exceeded'
  | 'signal'
  | 'serve.busy' // serve: the connection limit or the memory budget is reached (Postfix retries)
  | 'not-found' // admin: a user/alias/key that does not exist
  | 'conflict' // admin: already exists
  | 'dovecot.failed' // mailbox encrypt: doveadm or the IMAP session failed (the run can be repeated)
  | 'internal';

export class PgpipeError extends Error {
  override readonly name = 'PgpipeError';
  readonly code: FailureCode;
  readonly temporary: boolean;
  constructor(code: FailureCode, message: string, options: { temporary: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.code = code;
    this.temporary = options.temporary;
  }
}

export const temporary = (code: FailureCode, message: string, cause?: unknown): PgpipeError =>
  new PgpipeError(code, message, { temporary: true, cause });

export const permanent = (code: FailureCode, message: string, cause?: unknown): PgpipeError =>
  new PgpipeError(code, message, { temporary: false, cause });

export const isPgpipeError = (error: unknown): error is PgpipeError => error instanceof PgpipeError;
