// The Sendmail port on Postfix's sendmail(1). argv is built by a pure function; the child is killed, never given
// an early EOF, when anything goes wrong while it reads (an EOF makes Postfix queue a truncated message).
import type { Envelope, Sendmail } from '../filter/ports.js';
import { runChild } from './run-child.js';

/**
 * FILTER_README: -G (not a local submission: don't rewrite headers), -i (a lone "." is data), never -t.
 * `--` always: a recipient that starts with "-" is an address, never an option (sendmail(1) SECURITY).
 * The sender is its own argument so the null sender ('') stays the null sender.
 */
export function sendmailArgs(envelope: Envelope): string[] {
  return ['-G', '-i', '-f', envelope.sender, '--', ...envelope.recipients];
}

export function createSendmail(config: { readonly sendmailPath: string }): Sendmail {
  return {
    send(raw, envelope, signal) {
      return runChild(config.sendmailPath, sendmailArgs(envelope), raw, { signal });
    },
  };
}
