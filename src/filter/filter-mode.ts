// `pgpipe filter`, the pipe(8) content filter: its flags and help, and its run (spam check, encryption, sendmail).
// The entry in src/modes.ts; src/mail-path/pipe-mode.ts does argv, config, stdin and the exit. The pipeline and its
// real ports are loaded only when a message is there to run through them.
import { Command } from 'commander';
import { addSettingOptions } from '../cli-support.js';
import type { PipeMode } from '../mail-path/pipe-mode.js';

function defineFilterCommand(): Command {
  const command = new Command('filter')
    .description("the Postfix pipe(8) filter: spam check, encrypt to each recipient's key, re-inject with sendmail")
    .usage('[options] -f SENDER -- RECIPIENT...')
    .option('--queue-id <id>', "Postfix's ${queue_id}, shown in the log line")
    .addHelpText(
      'after',
      `
Also accepts the tutorial's argv: -oi -f SENDER RECIPIENT... (without "--", every word after the sender is a
recipient). Reads the whole message from stdin.

Exit status (what Postfix pipe(8) does): 0 every copy was handed to sendmail; 75 defer and retry (database
down, sendmail failure, spamd down with --spamd-down defer, a key to fix, deadline, any internal error);
69 bounce, only for a policy rejection (--missing-key reject, --unusable-key reject, --oversize reject).
One line of output, starting with an RFC 3463 code that agrees with the status.

master.cf:
  pgpipe unix - n n - 10 pipe flags=q user=pgpipe null_sender=
    argv=/usr/bin/pgpipe filter --queue-id \${queue_id} -f \${sender} -- \${recipient}`,
    );
  return addSettingOptions(command, 'filter');
}

export const pipeMode: PipeMode = {
  define: defineFilterCommand,
  async run({ raw, envelope, config, deadlineAt, signal }) {
    const [{ runFilter }, { createFilterDeps, policyFrom }] = await Promise.all([
      import('./run-filter.js'),
      import('./create-filter-deps.js'),
    ]);
    return runFilter({ raw, envelope, policy: policyFrom(config), deadlineAt }, createFilterDeps(config), signal);
  },
};
