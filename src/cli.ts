// The program's entry: main() takes argv and the Mode bin/pgpipe decided (src/modes.ts). A pipe mode goes to
// src/mail-path/pipe-mode.ts (exit 0, 69 or 75 through the mail-path boundary); everything else is the commander
// program, ending in src/hand-boundary.ts.
import { Command } from 'commander';
import { registerAdmin } from './admin/register-admin.js';
import { registerEncrypt } from './commands/register-encrypt.js';
import { registerMailbox } from './mailbox/register-mailbox.js';
import { runHandCommand } from './hand-boundary.js';
import { PIPE_MODES, type Mode } from './modes.js';
import { registerServe } from './serve/register-serve.js';
import { registerSetup } from './setup/register-setup.js';

/**
 * The hand-run program. The pipe modes are defined only for `pgpipe --help` and `pgpipe help filter`; they never
 * run through commander. `first` is argv[0]: the per-message commands (encrypt, a pipe mode's help) skip defining
 * the admin commands (a few ms); anything else (`--help`, `help`, admin commands, no argument) gets them all.
 */
export async function buildProgram(first?: string): Promise<Command> {
  const program = new Command('pgpipe')
    .description("encrypt incoming mail to recipients' OpenPGP keys stored in PostgreSQL (a Postfix pipe filter)")
    .version('0.1.0')
    .exitOverride()
    .showSuggestionAfterError(false)
    // Program options only before the command: a later word such as "-Vx@example.org" stays an argument.
    .enablePositionalOptions()
    .addHelpText(
      'after',
      `
Examples:
  pgpipe encrypt --to alice@example.org < message.eml
  pgpipe filter -f sender@example.net -- alice@example.org < message.eml   (what Postfix runs)
  pgpipe user add alice@example.org --key alice.asc --password-stdin`,
    );
  registerEncrypt(program);
  for (const load of Object.values(PIPE_MODES)) {
    const command = (await load()).pipeMode.define();
    program.addCommand(command);
    command.copyInheritedSettings(program);
  }
  if (first !== 'encrypt' && !Object.hasOwn(PIPE_MODES, first ?? '')) {
    registerAdmin(program);
    registerSetup(program);
    registerMailbox(program);
    registerServe(program);
  }
  return program;
}

export async function main(argv: readonly string[], mode: Mode): Promise<void> {
  if (mode.kind === 'hand') return runHandCommand(await buildProgram(argv[0]), argv);
  const { runPipeMode } = await import('./mail-path/pipe-mode.js');
  return runPipeMode(mode, argv);
}
