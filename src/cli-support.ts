// Glue between commander and the rest: settings become flags, flags+env+file become one Config,
// and admin/hand commands end through one exit boundary. The filter has its own stricter boundary.
import { Option, type Command } from 'commander';
import { SETTINGS, type Setting } from './config/settings.js';
import { loadConfig, type Config } from './config/load-config.js';
import { isPgpipeError } from './errors.js';
import { ExitCode } from './exit-codes.js';

/** attribute name commander gives a flag → Config key, per command. */
const settingKeys = new WeakMap<Command, Map<string, string>>();

/** Adds a flag for every setting of the scope ('common' ones always; deliver takes filter's too), plus --config. */
export function addSettingOptions(command: Command, scope: 'common' | 'filter' | 'deliver'): Command {
  const keys = new Map<string, string>();
  for (const s of SETTINGS as readonly Setting[]) {
    if (s.scope !== 'common' && s.scope !== scope && !(scope === 'deliver' && s.scope === 'filter')) continue;
    const defaults = s.defaultText === undefined ? '' : ` (default: ${s.defaultText})`;
    const env = `; env ${s.env}, config ${s.file}`;
    const negatable = s.flag.startsWith('--[no-]');
    const flag = negatable ? `--${s.flag.slice('--[no-]'.length)}` : s.flag;
    const option = new Option(flag, `${s.description}${defaults}${env}`);
    command.addOption(option);
    keys.set(option.attributeName(), s.key);
    if (negatable) command.addOption(new Option(`--no-${flag.slice(2)}`).hideHelp());
  }
  command.option('--config <file>', 'config file (default /etc/pgpipe/pgpipe.conf; env PGPIPE_CONFIG)');
  settingKeys.set(command, keys);
  return command;
}

/** The merged Config for a command: only values the user actually typed count as flags. */
export function configFor(command: Command, env: NodeJS.ProcessEnv = process.env): Config {
  const keys = settingKeys.get(command) ?? new Map<string, string>();
  const options = command.opts<Record<string, unknown>>();
  const flags: Record<string, unknown> = {};
  for (const [attribute, key] of keys) {
    if (command.getOptionValueSource(attribute) === 'cli') flags[key] = options[attribute];
  }
  const configPath = typeof options.config === 'string' ? options.config : undefined;
  return loadConfig({ flags, env, configPath });
}

/** Exit status and one stderr line for a failed admin or hand-run command. */
export function adminFailure(error: unknown): { code: number; line: string } {
  if (!isPgpipeError(error)) {
    return { code: ExitCode.software, line: `internal error: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (error.code === 'usage') return { code: ExitCode.usage, line: error.message };
  if (error.code === 'config.invalid') return { code: ExitCode.config, line: error.message };
  return { code: error.temporary ? ExitCode.tempFail : 1, line: error.message };
}

/** Wraps an admin action: its resolved number (or 0) becomes the exit status; failures print one line. */
export function runAction<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = (await fn(...args)) ?? ExitCode.ok;
    } catch (error) {
      const { code, line } = adminFailure(error);
      process.stderr.write(`pgpipe: ${line}\n`);
      process.exitCode = code;
    }
  };
}

/** Writes all of `data` to a stream and resolves once it has been handed to the OS. */
export function writeAll(stream: NodeJS.WritableStream, data: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (error) => (error ? reject(error) : resolve()));
  });
}

/** Reads a whole stream into one Buffer. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}
