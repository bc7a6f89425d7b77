// Defines `pgpipe encrypt` (flags and help only); the work is lazy-loaded so other commands don't pay for it.
import type { Command } from 'commander';
import { addSettingOptions, configFor, readAll, writeAll } from '../cli-support.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerEncrypt(program: Command): void {
  const command = program
    .command('encrypt')
    .description('encrypt one message from stdin to the recipients\' stored keys; result on stdout')
    .requiredOption('--to <address>', 'recipient address (repeat for several)', collect, [])
    .option('-v, --verbose', 'say on stderr what was done (never message content)')
    .addHelpText(
      'after',
      `
Exit status: 0 result written; 75 temporary failure (database down, unusable key, ...) with one
"4.x.x" line on stderr and nothing on stdout; 64 usage error.

Example:
  pgpipe encrypt --to alice@example.org < message.eml > encrypted.eml`,
    );
  addSettingOptions(command, 'common');
  command.action(async (options: { to: string[]; verbose?: boolean }) => {
    const config = configFor(command);
    const { runEncrypt } = await import('./run-encrypt.js');
    const raw = await readAll(process.stdin);
    const result = await runEncrypt(raw, options.to, config);
    await writeAll(process.stdout, result.output);
    if (options.verbose) for (const note of result.notes) process.stderr.write(`pgpipe: ${note}\n`);
  });
}
