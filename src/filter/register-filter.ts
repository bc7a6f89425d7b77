// Defines `pgpipe filter` (flags and help only). Its envelope words are split off before commander sees them,
// and the implementation is lazy-loaded in the action.
import type { Command } from 'commander';
import { addSettingOptions } from '../cli-support.js';
import { installFilterGuard } from './exit-boundary.js';
import { splitFilterArgv, type FilterArgv } from './filter-argv.js';

export function registerFilter(program: Command): void {
  // Program options must come before the subcommand. Otherwise commander scans the whole argv for them and a
  // recipient such as "-Vx@example.org" (a legal address) would run --version, print nothing and exit 0: mail lost.
  program.enablePositionalOptions();
  const command = program
    .command('filter')
    .description('the Postfix pipe(8) filter: spam check, encrypt to each recipient\'s key, re-inject with sendmail')
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
  addSettingOptions(command, 'filter');
  // Commander's own error text must never be the first thing Postfix reads: it would not start with a DSN code.
  command.configureOutput({ writeErr: () => undefined, outputError: () => undefined });

  let argv: FilterArgv | null = null;
  const parseOptions = command.parseOptions.bind(command);
  command.parseOptions = (args: string[]) => {
    installFilterGuard(); // the earliest moment we know we are the filter
    argv = splitFilterArgv(args);
    return parseOptions(argv.optionArgs);
  };
  command.action(async () => {
    const { runFilterCommand } = await import('./run-filter-command.js');
    await runFilterCommand(command, argv);
  });
}
