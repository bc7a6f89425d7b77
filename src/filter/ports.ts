// The small interfaces runFilter talks through (key store, spamc, sendmail, encryption, log, clock).
// Types only: the real implementations live in src/adapters/, the fakes in test/filter/.
import type { PublicKey } from 'openpgp';
import type { SplitMessage } from '../message/types.js';

/** What the store says about one address, reduced to what the filter decides on. */
export type MemberState =
  | { readonly kind: 'keys'; readonly keys: readonly PublicKey[]; readonly fingerprints: readonly string[] }
  | { readonly kind: 'no-key' }
  | { readonly kind: 'unusable'; readonly reason: string };

/**
 * What the store says about one recipient: its own state, or for an alias with several final addresses each
 * member's state with the member's address (as stored in aliases.email), so the plan can serve each one.
 */
export type KeyState =
  | MemberState
  | {
      readonly kind: 'members';
      readonly members: readonly { readonly address: string; readonly state: MemberState }[];
    };

export interface KeyLookup {
  /** One entry per address asked for (addresses are unquoted, as stored). Throws PgpipeError db.* when down. */
  lookup(addresses: readonly string[], signal: AbortSignal): Promise<ReadonlyMap<string, KeyState>>;
}

/** What a finished (or failed-to-start) child process reported. Adapters never interpret exit codes. */
export interface ChildResult {
  /** null when killed by a signal or when it never started. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: Buffer;
  /** First line of its stderr, sanitised and short (for the log only; never shown to senders). */
  readonly stderrLine: string;
  /**
   * Set when it could not be started (ENOENT, EACCES), was cancelled (our deadline), hit its own timeout, or
   * exited 0 while its stdin could not take all the bytes ('io'): then exitCode must not be trusted as success.
   * NOTE: 'io' is seen only when the write fails (EPIPE); a message that fits the pipe buffer (~64 KiB) is
   * "written" before the child reads it, so a child exiting 0 unread goes unnoticed there. Postfix's sendmail
   * never exits 0 before reading to the end, so this is a defence for odd stand-ins, not a guarantee.
   */
  readonly failure: 'spawn' | 'cancelled' | 'timeout' | 'io' | null;
  /**
   * false when the child had exited but its stdout was still open after a short grace (a descendant holds it):
   * `stdout` may then be cut short. The exit status still decides for sendmail; spamc's output is not used.
   * Absent means ended (fakes that model no such thing).
   */
  readonly outputEnded?: boolean;
}

export interface Spamc {
  /** Runs spamc on `raw` (the plaintext) with its own timeout in seconds. */
  run(raw: Buffer, timeoutSeconds: number, signal: AbortSignal): Promise<ChildResult>;
}

export interface Envelope {
  /** Envelope sender as Postfix passed it ('' for the null sender). */
  readonly sender: string;
  /** Recipients exactly as Postfix passed them (pipe flag q quoting kept: sendmail parses it). */
  readonly recipients: readonly string[];
}

export interface Sendmail {
  /** Re-injects `raw` for `envelope`. Must kill (never end early) the child on cancel or write failure. */
  send(raw: Buffer, envelope: Envelope, signal: AbortSignal): Promise<ChildResult>;
}

export interface Encryptor {
  /** The PGP/MIME message for `keys` (see src/encrypt/encrypt-message.ts). */
  encrypt(message: SplitMessage, keys: readonly PublicKey[]): Promise<Buffer>;
  /**
   * A lower bound on the size of encrypt()'s result, known without encrypting, so that a message that cannot fit
   * is refused before the time and memory are spent (see minimumEncryptedSize).
   */
  minimumSize(message: SplitMessage): Promise<number>;
}

export interface FilterPolicy {
  readonly spamCheck: boolean;
  readonly spamdDown: 'deliver' | 'defer';
  readonly missingKey: 'deliver' | 'defer' | 'reject';
  readonly unusableKey: 'defer' | 'deliver' | 'reject';
  /** Postfix message_size_limit in bytes; 0 = no limit. */
  readonly messageSizeLimit: number;
  readonly oversize: 'reject' | 'defer';
}

export interface FilterDeps {
  readonly keys: KeyLookup;
  readonly spamc: Spamc;
  readonly sendmail: Sendmail;
  readonly encryptor: Encryptor;
  /** Milliseconds, monotonic enough for durations. */
  readonly now: () => number;
}

export interface FilterInput {
  readonly raw: Buffer;
  readonly envelope: Envelope;
  readonly policy: FilterPolicy;
  /** When the whole run must be over (epoch ms from deps.now); spamc's -t is derived from it. */
  readonly deadlineAt: number;
}
