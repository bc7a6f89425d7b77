// Builds the one frozen Config from flags, environment and the config file (that precedence), validated once by zod.
// Errors are one line each and name where the bad value came from.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { temporary } from '../errors.js';
import { SETTINGS } from './settings.js';

type Settings = typeof SETTINGS;
type SchemaOf<S> = S extends { key: infer K extends string; schema: infer T extends z.ZodType } ? [K, T] : never;
type Shape = { [P in SchemaOf<Settings[number]> as P[0]]: P[1] };

const schema = z.object(Object.fromEntries(SETTINGS.map((s) => [s.key, s.schema])) as unknown as Shape).strict();

export type Config = Readonly<z.infer<typeof schema>>;

export const DEFAULT_CONFIG_PATH = '/etc/pgpipe/pgpipe.conf';

export interface ConfigSources {
  /** Values the user gave as flags (only those; commander defaults must not be passed). */
  readonly flags: Readonly<Record<string, unknown>>;
  readonly env: NodeJS.ProcessEnv;
  /** --config value, if given. A missing explicit file is an error; a missing default file is not. */
  readonly configPath?: string | undefined;
}

/** Parses `key = value` lines; `#` starts a comment line; values may be wrapped in double quotes. */
export function parseConfigFile(text: string, path: string): Record<string, string> {
  const known = new Map<string, string>(SETTINGS.map((s) => [s.file, s.key]));
  const values: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(trimmed);
    if (!match) throw temporary('config.invalid', `${path}:${index + 1}: expected "name = value"`);
    const [, name = '', rawValue = ''] = match;
    const key = known.get(name);
    if (key === undefined) throw temporary('config.invalid', `${path}:${index + 1}: unknown setting "${name}"`);
    // A value may be "quoted" (to keep a leading/trailing space or a '#'); otherwise ' # ...' ends it as a comment.
    const quoted = /^"([^"]*)"\s*(?:#.*)?$/.exec(rawValue);
    values[key] = quoted ? (quoted[1] ?? '') : rawValue.replace(/\s+#.*$/, '');
  });
  return values;
}

function readConfigFile(configPath: string | undefined, envPath: string | undefined): Record<string, string> {
  const path = configPath ?? envPath ?? DEFAULT_CONFIG_PATH;
  const explicit = configPath !== undefined || envPath !== undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!explicit && code === 'ENOENT') return {};
    throw temporary('config.invalid', `cannot read config file ${path}: ${code ?? 'error'}`, error);
  }
  return parseConfigFile(text, path);
}

export function loadConfig(sources: ConfigSources): Config {
  const fromFile = readConfigFile(sources.configPath, sources.env.PGPIPE_CONFIG);
  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const s of SETTINGS) {
    const flag = sources.flags[s.key];
    const env = sources.env[s.env];
    if (flag !== undefined) [merged[s.key], origin[s.key]] = [flag, s.flag.split(' ')[0] ?? s.flag];
    // An empty variable means "unset" (VAR= on a command line), except where empty is a real value.
    else if (env !== undefined && (env !== '' || s.key === 'recipientDelimiter'))
      [merged[s.key], origin[s.key]] = [env, s.env];
    else if (fromFile[s.key] !== undefined) [merged[s.key], origin[s.key]] = [fromFile[s.key], s.file];
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = String(issue?.path[0] ?? '');
    throw temporary('config.invalid', `invalid ${origin[key] ?? key}: ${issue?.message ?? 'invalid value'}`);
  }
  return Object.freeze(result.data);
}
