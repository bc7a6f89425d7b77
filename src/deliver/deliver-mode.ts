// `pgpipe deliver`, the pipe(8) final delivery: its flags and help, and its run (spam check, encryption, LMTP to
// Dovecot). The entry in src/modes.ts; src/mail-path/pipe-mode.ts does argv, config, stdin and the exit. The pipeline
// and its real ports (nodemailer among them) are loaded only when a message is there to run through them.
import { Command } from 'commander';
import { addSettingOptions } from '../cli-support.js';
import { failure } from '../mail-path/outcome.js';
import type { PipeMode } from '../mail-path/pipe-mode.js';

function defineDeliverCommand(): Command {
  const command = new Command('deliver')
    .description(
      "the Postfix pipe(8) final delivery: spam check, encrypt to each recipient's key, hand to Dovecot " + 'over LMTP',
    )
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
    argv=/usr/bin/pgpipe deliver --lmtp unix:/run/dovecot/lmtp-pgpipe
      --queue-id \${queue_id} -f \${sender} -- \${recipient}`,
    );
  return addSettingOptions(command, 'deliver');
}

export const pipeMode: PipeMode = {
  define: defineDeliverCommand,
  async run({ raw, envelope, config, deadlineAt, signal }) {
    // Without a listener every message would wait in the queue: say so on every one (4.3.5, like a bad argv).
    if (config.lmtp === undefined) {
      return failure('deferred', 'config.invalid', 'no LMTP address: set --lmtp or lmtp in pgpipe.conf');
    }
    const [{ runDeliver }, { createDeliverDeps, deliverPolicyFrom }] = await Promise.all([
      import('./run-deliver.js'),
      import('./create-deliver-deps.js'),
    ]);
    const input = { raw, envelope, policy: deliverPolicyFrom(config), deadlineAt };
    return runDeliver(input, createDeliverDeps(config), signal);
  },
};
