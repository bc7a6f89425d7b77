// Defines `pgpipe setup postfix` (flags and help); the work is in postfix-wiring.ts (pure) and apply-postfix.ts.
import { realpathSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { runAction, writeAll } from '../cli-support.js';
import { permanent } from '../errors.js';

interface SetupPostfixOptions {
  mode: 'filter' | 'deliver' | 'serve-lmtp' | 'serve-smtp';
  postfixConfig: string;
  pgpipe?: string;
  user: string;
  databaseUrl?: string;
  lmtp?: string;
  listen?: string;
  next?: string;
  service?: string;
  transportSetting: 'mailbox_transport' | 'virtual_transport';
  smtpdService?: string[];
  sentCopies?: boolean;
  sentService?: string[];
  maxProcesses: string;
  timeLimit: string;
  apply?: boolean;
  undo?: boolean;
}

/** bin/pgpipe of this install (what the operator ran), resolved so master.cf does not depend on a symlink's PATH. */
function thisPgpipe(): string {
  const script = process.argv[1];
  if (script === undefined) throw permanent('usage', 'cannot tell where pgpipe is installed: give --pgpipe PATH');
  try {
    return realpathSync(script);
  } catch {
    return script;
  }
}

export function registerSetup(program: Command): void {
  const setup = program
    .command('setup')
    .description('print or apply the documented wiring for a mail server component');
  const postfix = setup
    .command('postfix')
    .description('print the postconf commands that wire pgpipe into Postfix (--apply runs them)')
    .addOption(
      new Option(
        '--mode <mode>',
        'filter: content filter on smtpd; deliver: final delivery to Dovecot over LMTP; serve-lmtp: Postfix ' +
          'delivers over LMTP to pgpipe serve, which passes it on to Dovecot; serve-smtp: after-queue content ' +
          'filter over SMTP to pgpipe serve, which re-injects into a second smtpd',
      )
        .choices(['filter', 'deliver', 'serve-lmtp', 'serve-smtp'])
        .makeOptionMandatory(),
    )
    .option('--postfix-config <dir>', 'Postfix configuration directory (postconf -c)', '/etc/postfix')
    .option('--pgpipe <path>', 'the pgpipe program pipe(8) runs (default: this one)')
    .option('--user <user>', 'Unix user pipe(8) runs pgpipe as', 'pgpipe')
    .option('--database-url <url>', 'PostgreSQL URL put on the argv as --db (no password; default: pgpipe.conf says)')
    .option(
      '--lmtp <addr>',
      `deliver: Dovecot's LMTP listener, unix:/path or inet:host:port (default: unix:/run/dovecot/lmtp-pgpipe)`,
    )
    .option(
      '--listen <addr>',
      'serve: where pgpipe serve listens (default: unix:QUEUE_DIRECTORY/pgpipe/lmtp, or inet:127.0.0.1:10025)',
    )
    .option(
      '--next <addr>',
      "serve: its next hop (default: Dovecot's unix:/run/dovecot/lmtp-pgpipe, or the smtpd inet:127.0.0.1:10026)",
    )
    .option('--service <name>', 'master.cf service name (default: pgpipe, pgpipe-deliver, pgpipe-lmtp, pgpipe-smtp)')
    .addOption(
      new Option('--transport-setting <name>', 'deliver: main.cf parameter that routes mailboxes to pgpipe')
        .choices(['mailbox_transport', 'virtual_transport'])
        .default('mailbox_transport'),
    )
    .option(
      '--smtpd-service <name/type...>',
      'filter: smtpd services that get -o content_filter (default: smtp/inet submission/inet smtps/inet)',
    )
    .option('--sent-copies', 'deliver: file a copy of what authenticated users submit into their Sent, encrypted')
    .option(
      '--sent-service <name/type...>',
      'with --sent-copies: the submission services (default: submission/inet smtps/inet)',
    )
    .option('--max-processes <n>', 'pipe(8) process limit', '10')
    .option(
      '--time-limit <seconds>',
      "Postfix's time limit for the service (serve: lmtp/smtp_data_done_timeout); keep it above pgpipe's deadline",
      '300s',
    )
    .option('--apply', 'save main.cf/master.cf (once) as *.before-pgpipe, then run the commands')
    .option('--undo', 'put the *.before-pgpipe copies back')
    .addHelpText(
      'after',
      `
Without --apply it only prints the commands, one per line, for you to read or run. --apply is idempotent: the
copies are made by the first --apply only, so --undo always returns to the configuration before pgpipe.
Then run "postfix check && postfix reload". Dovecot's listener for deliver and serve-lmtp:
postfix-snippets/dovecot.conf. The serve modes also print the pgpipe.conf lines pgpipe serve needs (as comments);
serve-lmtp --apply creates the socket directory (pgpipe:postfix, mode 2750) inside Postfix's queue directory.
--sent-copies also writes the lookup table pgpipe-sent-copies.regexp into the Postfix directory (Dovecot's part:
postfix-snippets/dovecot-sent.conf; README "Sent copies").

Examples:
  pgpipe setup postfix --mode filter
  pgpipe setup postfix --mode deliver --lmtp unix:/run/dovecot/lmtp-pgpipe --apply
  pgpipe setup postfix --mode deliver --sent-copies --apply
  pgpipe setup postfix --mode serve-lmtp --apply
  pgpipe setup postfix --mode serve-smtp --listen inet:127.0.0.1:10025 --next inet:127.0.0.1:10026
  pgpipe setup postfix --mode deliver --undo`,
    );
  postfix.action(
    runAction(async (options: SetupPostfixOptions) => {
      const { applyWiring, postfixFacts, sentCopyNotes, serveSmtpChecks, serveSmtpFacts, undoWiring } =
        await import('./apply-postfix.js');
      const {
        DEFAULT_SENT_SERVICES,
        DEFAULT_SERVICE,
        DEFAULT_SMTPD_SERVICES,
        fileLines,
        serveNotes,
        shellLine,
        wiringCommands,
        wiringFiles,
      } = await import('./postfix-wiring.js');
      if (options.apply === true && options.undo === true)
        throw permanent('usage', '--apply and --undo exclude each other');
      if (options.undo === true) {
        await writeAll(process.stdout, `${(await undoWiring(options.postfixConfig)).lines.join('\n')}\n`);
        return 0;
      }
      const maxProcesses = Number(options.maxProcesses);
      if (!Number.isInteger(maxProcesses) || maxProcesses < 1)
        throw permanent('usage', '--max-processes must be a positive integer');
      const serve = options.mode === 'serve-lmtp' || options.mode === 'serve-smtp';
      if (options.mode !== 'deliver' && options.lmtp !== undefined)
        throw permanent('usage', `--lmtp is for --mode deliver${serve ? ' (serve: --next)' : ''}`);
      if (!serve && (options.listen !== undefined || options.next !== undefined))
        throw permanent('usage', '--listen and --next are for --mode serve-lmtp and serve-smtp');
      if (options.sentService !== undefined && options.sentCopies !== true) {
        throw permanent('usage', '--sent-service goes with --sent-copies');
      }
      const wiring = {
        mode: options.mode,
        postfixConfig: options.postfixConfig,
        pgpipe: options.pgpipe ?? thisPgpipe(),
        user: options.user,
        databaseUrl: options.databaseUrl,
        lmtp: options.lmtp,
        service: options.service ?? DEFAULT_SERVICE[options.mode],
        transportSetting: options.transportSetting,
        smtpdServices: options.smtpdService ?? DEFAULT_SMTPD_SERVICES,
        maxProcesses,
        timeLimit: options.timeLimit,
        sentCopies: options.sentCopies,
        sentServices: options.sentService,
        listen: options.listen,
        next: options.next,
        ...(options.mode === 'serve-lmtp' ? await postfixFacts(options.postfixConfig) : {}),
        ...(options.mode === 'serve-smtp' ? await serveSmtpFacts(options.postfixConfig) : {}),
      };
      const commands = wiringCommands(wiring);
      const files = wiringFiles(wiring);
      // Refuses a port another master.cf service has (mail would reach Postfix past pgpipe); names what it replaces.
      const conflicts = options.mode === 'serve-smtp' ? await serveSmtpChecks(options.postfixConfig, wiring) : [];
      if (options.apply !== true) {
        const printed = [...files.map(fileLines), ...commands.map(shellLine), ...serveNotes(wiring)];
        await writeAll(process.stdout, `${[...printed, ...conflicts.map((l) => `# ${l}`)].join('\n')}\n`);
        return 0;
      }
      const notes =
        options.sentCopies === true
          ? await sentCopyNotes(options.postfixConfig, options.sentService ?? DEFAULT_SENT_SERVICES)
          : conflicts;
      const report = await applyWiring(options.postfixConfig, commands, files);
      await writeAll(process.stdout, `${[...report.lines, ...notes, ...serveNotes(wiring)].join('\n')}\n`);
      return 0;
    }),
  );
}
