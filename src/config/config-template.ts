// The commented /etc/pgpipe/pgpipe.conf the Debian package installs, generated from SETTINGS so it cannot drift:
// every setting, its meaning, its flag and environment names, and its default as a commented-out line that parses
// (uncommenting it changes nothing). Used only by the package build (scripts/package-deb.mjs), never at start.
import { SETTINGS, type Setting } from './settings.js';

/** The schema's default written as a config-file value, or undefined when the setting has none. */
function defaultValue(s: Setting): string | undefined {
  const value: unknown = s.schema.safeParse(undefined).data;
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.join(' ');
  const text = String(value);
  // Quotes keep a ' #' or surrounding spaces, exactly as parseConfigFile reads them.
  return /\s#|^\s|\s$/.test(text) ? `"${text}"` : text;
}

/** Word-wraps `text` into `# ` comment lines of at most `width` characters. */
function comment(text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line.length + 1 + word.length > width && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

export function configTemplate(): string {
  const out = [
    '# /etc/pgpipe/pgpipe.conf: read by every pgpipe run. Precedence: flag > PGPIPE_* environment > this file >',
    '# default. Format: "name = value" lines, "#" comments; quote a value ("...") that must keep a " #".',
    '# Every setting is listed below, commented out, with its default: uncomment a line to change it.',
    '# The filter runs as the Postfix pipe(8) user (pgpipe), which must be able to read this file.',
    '# See pgpipe(1) and /usr/share/doc/pgpipe/examples/ (postfix-snippets) for the Postfix wiring.',
  ];
  let section: Setting['scope'] | undefined;
  for (const s of SETTINGS as readonly Setting[]) {
    if (s.scope !== section) {
      section = s.scope;
      out.push('', `# ---- ${section === 'common' ? 'every command' : `pgpipe ${section} only`} ----`);
    }
    const flag = s.flag.replace('[no-]', '').split(' ')[0] ?? s.flag;
    const value = defaultValue(s);
    out.push('', ...comment(`${s.description}.`));
    const names = `flag ${flag}, environment ${s.env}`;
    // A default that is not a literal value (e.g. one under $HOME) is described, not written.
    out.push(...comment(value === undefined && s.defaultText ? `Default: ${s.defaultText}; ${names}.` : `${names}.`));
    out.push(value === undefined ? `#${s.file} =` : `#${s.file} = ${value}`);
  }
  return `${out.join('\n')}\n`;
}
