// Glue between commander and the rest: settings become flags, flags+env+file become one Config; stdin/stdout helpers.
// The exit boundaries are src/hand-boundary.ts (hand-run commands) and src/mail-path/exit-boundary.ts (pipe modes).
import { Option, type Command } from 'commander';
import { SETTINGS, type Setting } from './config/settings.js';
import { loadConfig, type Config } from './config/load-config.js';

/** attribute name commander gives a flag → Config key, per command. */
const settingKeys = new WeakMap<Command, Map<string, string>>();

/** Which setting scopes each command takes: deliver takes filter's too, serve takes filter's and deliver's. */
const TAKES: Record<Setting['scope'], readonly Setting['scope'][]> = {
  common: ['common'],
  filter: ['common', 'filter'],
  deliver: ['common', 'filter', 'deliver'],
  serve: ['common', 'filter', 'deliver', 'serve'],
};

/** Adds a flag for every setting the scope takes (see TAKES), plus --config. */
export function addSettingOptions(command: Command, scope: Setting['scope']): Command {
  const keys = new Map<string, string>();
  for (const s of SETTINGS as readonly Setting[]) {
    if (!TAKES[scope].includes(s.scope)) continue;
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

/** Admin actions are wrapped in runAction, which hands their status or failure to the hand-run boundary. */
export { runAction } from './hand-boundary.js';

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
