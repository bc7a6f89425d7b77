// Splits a pipe(8) mode's argv (the words after `filter`) into the envelope (sender, recipients) and the option
// words commander may see.
// Pure. Recipients are hostile text (a local part may legally be "-Vx" or "--sendmail=/x"), so they never reach
// an option parser.
import { temporary, type PgpipeError } from '../errors.js';

export interface PipeArgv {
  /** Words for commander (settings flags and their values), in order; also when the envelope is invalid. */
  readonly optionArgs: string[];
  /** The envelope, or why the argv holds none (a usage error: Postfix should defer, 4.3.5). */
  readonly envelope: { readonly sender: string; readonly recipients: string[] } | PgpipeError;
}

/** sendmail-compatible no-ops the tutorial's argv passes (`-oi`: a lone "." is not end of input). */
const IGNORED = new Set(['-oi', '-i']);

/**
 * Accepts both `[options] -f SENDER -- RECIPIENT...` and the tutorial's `-oi -f SENDER RECIPIENT...`.
 * `-f` always takes the next word as the sender, even '' (null sender) or one starting with '-'.
 * After the sender: if a later word is exactly `--`, words up to it are options; otherwise every later word is a
 * recipient (Postfix expands `${recipient}` last, and a recipient is never a bare `--`: it always has a domain).
 */
export function splitPipeArgv(args: readonly string[]): PipeArgv {
  const optionArgs: string[] = [];
  let sender: string | null = null;
  let recipients: string[] | null = null;
  for (let i = 0; i < args.length && recipients === null; i++) {
    const word = args[i] as string;
    if (word === '--') {
      recipients = args.slice(i + 1);
    } else if (word === '-f' || word === '-r') {
      if (i + 1 >= args.length) return { optionArgs, envelope: temporary('usage', '-f needs a sender argument') };
      sender = args[++i] as string;
      if (!args.slice(i + 1).includes('--')) recipients = args.slice(i + 1);
    } else if (word.startsWith('-f') && !word.startsWith('--')) {
      // A glued `-f${sender}` turns into a bare `-f` for the null sender, which then swallows the first recipient
      // as the sender (pipe(8) warns about this form): refuse it loudly on every message instead.
      return {
        optionArgs,
        envelope: temporary('usage', 'write -f ${sender} as two words in master.cf, not -f${sender}'),
      };
    } else if (!IGNORED.has(word)) {
      optionArgs.push(word);
    }
  }
  const fail = (why: string): PipeArgv => ({ optionArgs, envelope: temporary('usage', why) });
  if (sender === null) return fail('missing -f SENDER');
  if (recipients === null || recipients.length === 0) return fail('no recipients given');
  if (recipients.some((r) => r === '')) return fail('empty recipient argument');
  // Node decodes argv as UTF-8 and turns invalid bytes into U+FFFD, and can hand children only UTF-8: such an
  // address can never reach sendmail unchanged, so it must not reach it altered (another mailbox) either.
  if ([sender, ...recipients].some((word) => word.includes('\uFFFD')))
    return fail('envelope address is not valid UTF-8');
  return { optionArgs, envelope: { sender, recipients } };
}
