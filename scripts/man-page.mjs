// pgpipe(1), generated from the built CLI's own --help text (every command, found from the "Commands:" lists), so
// the man page says exactly what `pgpipe ... --help` says. Options that many commands share (the settings) are
// listed once. Usage: node scripts/man-page.mjs [path/to/bin/pgpipe] > pgpipe.1
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

function helpOf(bin, words) {
  return execFileSync(process.execPath, [bin, ...words, '--help'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PGPIPE_CONFIG: '/dev/null', COLUMNS: '80' },
  });
}

/** Commander's help as { usage, text: [paragraph...], lists: { Options: [[term, desc]], ... }, examples } */
export function parseHelp(help) {
  const lines = help.replace(/\s+$/, '').split('\n');
  const parsed = { usage: '', paragraphs: [], lists: {}, examples: [] };
  let section = null; // a list header such as "Options:" or "Examples:"
  let paragraph = [];
  const endParagraph = () => {
    if (paragraph.length > 0) parsed.paragraphs.push(paragraph.join(' '));
    paragraph = [];
  };
  for (const line of lines) {
    if (line.startsWith('Usage: ')) {
      parsed.usage = line.slice('Usage: '.length);
    } else if (/^[A-Z][A-Za-z ]*:$/.test(line)) {
      endParagraph();
      section = line.slice(0, -1);
      if (!/^Examples?$/.test(section)) parsed.lists[section] = [];
    } else if (line.trim() === '') {
      endParagraph();
      if (section !== null && /^Examples?$/.test(section)) section = null;
    } else if (section !== null && /^Examples?$/.test(section)) {
      parsed.examples.push(line.trim());
    } else if (section !== null && line.startsWith('  ')) {
      const entries = parsed.lists[section];
      const entry = /^ {2}(\S.*?)(?: {2,}(.*))?$/.exec(line);
      if (/^ {3,}/.test(line) && entries.length > 0) entries[entries.length - 1][1] += ` ${line.trim()}`;
      else if (entry) entries.push([entry[1], entry[2] ?? '']);
    } else {
      section = null;
      paragraph.push(line.trim());
    }
  }
  endParagraph();
  return parsed;
}

/** Every command path, depth first: [], ['encrypt'], ['user'], ['user', 'add'], ... */
function commandPaths(bin, words = []) {
  const help = parseHelp(helpOf(bin, words));
  const children = (help.lists.Commands ?? []).map(([term]) => term.split(' ')[0]).filter((name) => name !== 'help');
  return [{ words, help }, ...children.flatMap((name) => commandPaths(bin, [...words, name]))];
}

// Roff: escape backslashes and minus signs, and keep a leading '.' or "'" from being read as a request.
const roff = (text) =>
  text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/, '\\&$1');

function list(entries) {
  return entries.flatMap(([term, desc]) => ['.TP', `.B ${roff(term)}`, roff(desc)]);
}

function examples(lines) {
  if (lines.length === 0) return [];
  return ['.PP', lines.length > 1 ? 'Examples:' : 'Example:', '.PP', '.RS', '.nf', ...lines.map(roff), '.fi', '.RE'];
}

export function manPage(bin, { version, date }) {
  const commands = commandPaths(bin);
  const [top, ...rest] = commands;
  // An option spelt and described the same way in three or more commands is a shared setting: listed once.
  const seen = new Map();
  for (const { help } of rest) {
    for (const [term, desc] of help.lists.Options ?? []) {
      if (term === '-h, --help') continue;
      const key = `${term}\n${desc}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  }
  const shared = [...seen].filter(([, n]) => n >= 3).map(([key]) => key.split('\n'));
  const isShared = ([term, desc]) => shared.some(([t, d]) => t === term && d === desc);
  const description = top.help.paragraphs[0] ?? '';
  const out = [
    `.TH PGPIPE 1 "${date}" "pgpipe ${version}" "User Commands"`,
    '.SH NAME',
    `pgpipe \\- ${roff(description)}`,
    '.SH SYNOPSIS',
    ...rest
      .filter(({ help }) => !(help.lists.Commands ?? []).length)
      .flatMap(({ help }) => ['.br', `.B ${roff(help.usage)}`]),
    '.SH DESCRIPTION',
    ...top.help.paragraphs.slice(1).flatMap((p) => ['.PP', roff(p)]),
    '.PP',
    'Postfix runs',
    '.B pgpipe filter',
    'from master.cf (see',
    '.IR /usr/share/doc/pgpipe/examples/ ).',
    'The other commands are run by hand by the administrator.',
    ...examples(top.help.examples),
    '.SH COMMANDS',
  ];
  for (const { words, help } of rest) {
    out.push(`.SS "${roff(help.usage)}"`);
    for (const p of help.paragraphs) out.push('.PP', roff(p));
    const own = (help.lists.Options ?? []).filter((entry) => !isShared(entry) && !/^-h, --help$/.test(entry[0]));
    if (own.length > 0) out.push('.PP', 'Options:', '.RS', ...list(own), '.RE');
    if ((help.lists.Options ?? []).some(isShared)) {
      out.push('.PP', 'Takes the common options (see', '.BR "COMMON OPTIONS" ).');
    }
    if ((help.lists.Commands ?? []).length > 0) {
      out.push(
        '.PP',
        'Commands:',
        '.RS',
        ...list(
          help.lists.Commands.filter(([t]) => !t.startsWith('help ')).map(([term, desc]) => [
            `${words.join(' ')} ${term}`,
            desc,
          ]),
        ),
        '.RE',
      );
    }
    for (const [name, entries] of Object.entries(help.lists)) {
      if (name !== 'Options' && name !== 'Commands') out.push('.PP', `${roff(name)}:`, '.RS', ...list(entries), '.RE');
    }
    out.push(...examples(help.examples));
  }
  out.push(
    '.SH COMMON OPTIONS',
    'Options that several commands take. Each setting is also an environment variable and a key in the',
    'configuration file, named in its entry; a flag beats the environment, which beats the file.',
    '.B \\-h, \\-\\-help',
    'works everywhere.',
    ...list(shared),
    '.SH FILES',
    '.TP',
    '.I /etc/pgpipe/pgpipe.conf',
    'the configuration file (every setting, commented out with its default)',
    '.TP',
    '.I /usr/share/doc/pgpipe/examples/',
    'Postfix master.cf and main.cf lines, PostgreSQL access (pg_hba.conf, pg_ident.conf, GRANTs),',
    'a step-by-step README',
    '.SH EXIT STATUS',
    'In the per-message commands (filter, encrypt): 0 done; 69 a deliberate policy rejection (Postfix bounces);',
    '75 a temporary failure, with one 4.x.x line on stderr (Postfix defers and retries). Administration commands:',
    '0 success, 1 a failed check, 64 a usage error, 78 an invalid configuration.',
    '.SH SEE ALSO',
    '.BR postfix (1),',
    '.BR pipe (8),',
    '.BR master (5),',
    '.BR spamc (1),',
    '.BR gpg (1)',
  );
  return `${out.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bin = process.argv[2] ?? fileURLToPath(new URL('../bin/pgpipe', import.meta.url));
  const version = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).trim();
  const date = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? Date.now() / 1000) * 1000).toISOString().slice(0, 10);
  process.stdout.write(manPage(bin, { version, date }));
}
