// Defines `pgpipe encrypt` (flags and help only); the work is lazy-loaded so other commands don't pay for it.
// It takes gpgit.pl's command line too: `pgpipe encrypt [options] RECIPIENT...` with gpgit's options.
import { Option, type Command } from 'commander';
import { addSettingOptions, configFor, readAll, writeAll } from '../cli-support.js';
import { permanent } from '../errors.js';
import { orderEncryptArgv, type OptionTable } from './encrypt-argv.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

const ENCRYPT_MODES = ['pgpmime', 'prefer-inline', 'inline-or-plain'] as const;
export type EncryptModeChoice = (typeof ENCRYPT_MODES)[number];

interface EncryptFlags {
  readonly to: string[];
  readonly verbose?: boolean;
  readonly encryptMode?: EncryptModeChoice;
  readonly inlineFlatten?: boolean;
  readonly gpgHome?: string;
  readonly gpgPath?: string;
}

/** The flag spellings of `command` (and help), for orderEncryptArgv. */
function optionTable(command: Command): OptionTable {
  const known = new Set<string>(['-h', '--help']);
  const valued = new Set<string>();
  for (const option of command.options) {
    for (const name of [option.long, option.short]) {
      if (name === undefined) continue;
      known.add(name);
      if (option.required || option.optional) valued.add(name);
    }
  }
  return { known, valued };
}

/** gpgit's own test for a recipient word: something@something. */
const looksLikeAddress = (word: string): boolean => /^.+@.+$/s.test(word);

export function registerEncrypt(program: Command): void {
  const command = program
    .command('encrypt')
    .description("encrypt one message from stdin to the recipients' stored keys; result on stdout")
    .usage("[options] RECIPIENT...  (or --to RECIPIENT; gpgit.pl's command line)")
    .argument('[recipient...]', 'recipient addresses, as --to (gpgit.pl: gpgit.pl [options] RECIPIENT...)')
    .option('--to <address>', 'recipient address (repeat for several)', collect, [])
    .addOption(
      new Option(
        '--encrypt-mode <mode>',
        'pgpmime (RFC 3156, default); prefer-inline: inline PGP for a ' +
          'message that is one text/plain part (its Subject stays visible), PGP/MIME for the rest; ' +
          "inline-or-plain: inline PGP, and any other message comes out UNENCRYPTED (gpgit's mode; " +
          'default from encrypt_mode)',
      ).choices(ENCRYPT_MODES),
    )
    .option(
      '--inline-flatten',
      'with an inline mode: a multipart/alternative of a text/plain part (10+ characters) ' +
        'and a text/html part loses the HTML and goes inline (default from inline_flatten)',
    )
    .option('--no-inline-flatten', 'do not flatten (overrides inline_flatten)')
    .option('--skip-smime', 'accepted for gpgit.pl; no effect: S/MIME-encrypted mail always passes unchanged')
    .option('--skip-ms-bug', 'accepted for gpgit.pl; no effect: Exchange-mangled PGP/MIME always passes unchanged')
    .addOption(new Option('--always-trust', 'accepted for gpgit.pl forks; no effect (no GnuPG trust here)').hideHelp())
    .addOption(new Option('--gpg-home <dir>').hideHelp())
    .addOption(new Option('--gpg-path <path>').hideHelp())
    .option('-v, --verbose', 'say on stderr what was done (never message content)')
    .addHelpText(
      'after',
      `
Exit status: 0 result written; 75 temporary failure (database down, unusable key, ...) with one
"4.x.x" line on stderr and nothing on stdout; 64 usage error (no recipient, unknown option).

A recipient without a key leaves the message unchanged (exit 0), as gpgit.pl does; an unusable stored key
is exit 75, never plaintext. Already encrypted mail (PGP/MIME, inline PGP, S/MIME, Exchange-mangled
PGP/MIME) always comes out unchanged. Keys come from users.pgpkey, not from a GnuPG keyring.

Examples:
  pgpipe encrypt --to alice@example.org < message.eml > encrypted.eml
  pgpipe encrypt --encrypt-mode prefer-inline alice@example.org bob@example.org < message.eml
  pgpipe encrypt -- -odd@example.org < message.eml          (a recipient that looks like an option)`,
    );
  addSettingOptions(command, 'common');
  // Recipient words that look like options go behind "--" before commander reads them (encrypt-argv.ts).
  const parseOptions = command.parseOptions.bind(command);
  command.parseOptions = (args: string[]) => parseOptions(orderEncryptArgv(args, optionTable(command)));
  command.action(async (recipients: string[], options: EncryptFlags) => {
    if (options.gpgHome !== undefined || options.gpgPath !== undefined) {
      throw permanent(
        'usage',
        'pgpipe reads keys from users.pgpkey, not a GnuPG keyring: drop --gpg-home/--gpg-path ' +
          '(move the keyring in with pgpipe key import --gnupg-home DIR)',
      );
    }
    const bad = recipients.find((word) => !looksLikeAddress(word));
    if (bad !== undefined) throw permanent('usage', `not a recipient address: "${bad.slice(0, 40)}"`);
    const to = [...options.to, ...recipients];
    // Checked before stdin is read: gpgit prints its help on stdout here, which in a filter replaces the message.
    const usage = 'encrypt needs a recipient: pgpipe encrypt [options] RECIPIENT... or --to ADDRESS';
    if (to.length === 0) throw permanent('usage', usage);
    const config = configFor(command);
    const { runEncrypt } = await import('./run-encrypt.js');
    const raw = await readAll(process.stdin);
    const mode = options.encryptMode ?? config.encryptMode;
    const inlineFlatten = options.inlineFlatten ?? config.inlineFlatten;
    const result = await runEncrypt(raw, to, config, { mode, inlineFlatten });
    await writeAll(process.stdout, result.output);
    if (options.verbose) for (const note of result.notes) process.stderr.write(`pgpipe: ${note}\n`);
  });
}
