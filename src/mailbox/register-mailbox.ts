// Defines `pgpipe mailbox encrypt` (flags and help); the work is lazy-loaded. A hand-run command: it ends in
// src/hand-boundary.ts like the admin commands (0 done, 1 refused, 64 usage, 75 Dovecot or the store failed: run
// it again, it resumes).
import type { Command } from 'commander';
import { addSettingOptions, configFor, runAction, writeAll } from '../cli-support.js';
import { permanent } from '../errors.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

interface MailboxEncryptFlags {
  user: string;
  mailbox: string[];
  dryRun?: boolean;
  json?: boolean;
  doveadm: string;
  dovecotConfig?: string;
  batch: string;
}

export function registerMailbox(program: Command): void {
  const mailbox = program.command('mailbox').description('mail already stored in Dovecot');
  const encrypt = mailbox
    .command('encrypt')
    .description('encrypt every stored message of a user that is not already protected, in place')
    .requiredOption('--user <address>', 'the Dovecot user (users.email), whose stored key is used')
    .option(
      '--mailbox <name>',
      'only this mailbox, as `doveadm mailbox list` names it (repeat for several)',
      collect,
      [],
    )
    .option('--dry-run', 'count what would be encrypted; change nothing')
    .option('--json', 'print the summary as JSON (for scripts)')
    .option(
      '--batch <n>',
      'messages stored and expunged together (at most 16 MB of them); fewer: less left to ' +
        'finish after an interruption, more: faster',
      '200',
    )
    .option('--doveadm <path>', 'the doveadm binary', 'doveadm')
    .option('--dovecot-config <file>', "Dovecot's config file (doveadm -c FILE; default: Dovecot's own)")
    .addHelpText(
      'after',
      `
Run it as root (or as the user owning the mail store): doveadm must reach the user's mail. Each message is
stored again encrypted, with its flags, keywords and received date, checked, and only then is the original
expunged; the cache file is purged afterwards. Interrupted, it leaves every message at least once; run it
again and it finishes. A second run changes nothing.

Exit status: 0 done; 1 refused (no usable key: nothing changed); 64 usage; 75 Dovecot or the database
failed (run it again).

Examples:
  pgpipe mailbox encrypt --user alice@example.org --dry-run
  pgpipe mailbox encrypt --user alice@example.org
  pgpipe mailbox encrypt --user alice@example.org --mailbox INBOX --mailbox Sent --json`,
    );
  addSettingOptions(encrypt, 'common');
  encrypt.action(
    runAction(async (options: MailboxEncryptFlags) => {
      const config = configFor(encrypt);
      const batch = Number(options.batch);
      if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) {
        throw permanent('usage', '--batch must be a whole number from 1 to 10000');
      }
      const [{ runMailboxEncrypt, formatResult }, { createProgress }] = await Promise.all([
        import('./run-mailbox-encrypt.js'),
        import('./progress.js'),
      ]);
      const result = await runMailboxEncrypt(
        {
          user: options.user,
          mailboxes: options.mailbox,
          dryRun: options.dryRun === true,
          batch,
          tools: { doveadm: options.doveadm, configFile: options.dovecotConfig },
        },
        config,
        createProgress(process.stderr),
      );
      const text = options.json === true ? `${JSON.stringify(result, null, 2)}\n` : formatResult(result);
      await writeAll(process.stdout, text);
    }),
  );
}
