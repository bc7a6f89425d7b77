// Defines `pgpipe serve` (flags and help); the service itself is run-serve.ts, loaded only when it runs.
import { Command } from 'commander';
import { addSettingOptions, configFor, runAction } from '../cli-support.js';

export function registerServe(program: Command): void {
  const command = new Command('serve')
    .description('the resident LMTP/SMTP service: spam check and encryption in one process, for a busy server')
    .usage('[options] --listen unix:/path|inet:host:port --next unix:/path|inet:host:port')
    .addHelpText(
      'after',
      `
Two wirings (pgpipe setup postfix --mode serve-lmtp|serve-smtp prints them for your install):
  --protocol lmtp  delivery proxy: Postfix's virtual_transport/mailbox_transport = lmtp:... -> pgpipe serve ->
                   Dovecot's LMTP (--next). Every path into a mailbox is covered; replies are per recipient.
  --protocol smtp  after-queue content filter: content_filter = pgpipe-smtp:[127.0.0.1]:10025 -> pgpipe serve ->
                   the re-injection smtpd (--next inet:127.0.0.1:10026).
Needs PostgreSQL (database_url): the embedded store admits one process at a time.
A recipient gets 2xx only after the next hop accepted its copy; anything unexpected is a 4xx (Postfix retries).
SIGTERM: stop accepting, finish within serve_grace, then 421. SIGHUP: re-read the config.`,
    );
  addSettingOptions(command, 'serve');
  command.action(
    runAction(async () => {
      const { runServe } = await import('./run-serve.js');
      await runServe(() => configFor(command));
    }),
  );
  program.addCommand(command);
  command.copyInheritedSettings(program);
}
