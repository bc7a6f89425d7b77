// Defines `pgpipe deliver` (flags and help only). Like filter: the envelope words are split off before commander
// sees them, the filter's exit guard is installed first, and the implementation is lazy-loaded in the action.
import type { Command } from 'commander';
import { addSettingOptions } from '../cli-support.js';
import { installFilterGuard } from '../filter/exit-boundary.js';
import { splitFilterArgv, type FilterArgv } from '../filter/filter-argv.js';

export function registerDeliver(program: Command): void {
  program.enablePositionalOptions(); // see registerFilter: program options never scan the recipients
  const command = program
    .command('deliver')
    .description('the Postfix pipe(8) final delivery: spam check, encrypt to each recipient\'s key, hand to Dovecot over LMTP')
    .usage('[options] --lmtp unix:/path|inet:host:port -f SENDER -- RECIPIENT...')
    .option('--queue-id <id>', "Postfix's ${queue_id}, shown in the log line")
    .addHelpText(
      'after',
      `
Used as mailbox_transport (or virtual_transport): every message Postfix stores in a mailbox comes through here,
whatever way it arrived (smtpd, local sendmail, bounces, aliases, forwards). Reads the whole message from stdin.
The filter settings apply (spam check, key policies, message_size_limit, deadline, log); --sendmail is unused.

Exit status (what Postfix pipe(8) does): 0 Dovecot answered 2xx for every recipient; 75 defer and retry (Dovecot
down, slow or 4xx, database down, a key to fix, spamd down with --spamd-down defer, deadline, any internal error);
69 bounce, only for Dovecot's own 5xx (its enhanced code and text in the line) or a policy rejection.

master.cf (pgpipe setup postfix --mode deliver prints it for your install):
  pgpipe-deliver unix - n n - 10 pipe flags=Xq user=pgpipe null_sender=
    argv=/usr/bin/pgpipe deliver --lmtp unix:/run/dovecot/lmtp-pgpipe --queue-id \${queue_id} -f \${sender} -- \${recipient}`,
    );
  addSettingOptions(command, 'deliver');
  command.configureOutput({ writeErr: () => undefined, outputError: () => undefined });

  let argv: FilterArgv | null = null;
  const parseOptions = command.parseOptions.bind(command);
  command.parseOptions = (args: string[]) => {
    installFilterGuard(); // from here on only 0, 69 or 75 leave the process
    argv = splitFilterArgv(args);
    return parseOptions(argv.optionArgs);
  };
  command.action(async () => {
    const { runDeliverCommand } = await import('./run-deliver-command.js');
    await runDeliverCommand(command, argv);
  });
}
