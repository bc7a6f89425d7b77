// The Spamc port on the real spamc client. Builds argv (pure, exported for tests) and runs it; interpretation of
// the result is the filter's (src/filter/check-spam.ts), never spamc's exit code passed through.
import type { Spamc } from '../filter/ports.js';
import { runChild } from './run-child.js';

/**
 * The operator's arguments first (e.g. `-d host`, `-U socket`, `-s max-size`), then ours so they win:
 * `-x` turns spamc's silent fallback (exit 0, message unscanned) into a non-zero exit we can see; `-t` keeps
 * spamd's answer inside our deadline.
 */
export function spamcArgs(extra: readonly string[], timeoutSeconds: number): string[] {
  return [...extra, '-x', '-t', String(timeoutSeconds)];
}

export function createSpamc(config: { readonly spamcPath: string; readonly spamcArgs: readonly string[] }): Spamc {
  return {
    run(raw, timeoutSeconds, signal) {
      // Our own backstop a little after spamc's -t, for a spamc that hangs anyway (e.g. in connect retries).
      return runChild(config.spamcPath, spamcArgs(config.spamcArgs, timeoutSeconds), raw, {
        signal,
        timeoutMs: timeoutSeconds * 1000 + 3000,
      });
    },
  };
}
