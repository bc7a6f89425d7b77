// pgpipe(1) is generated from the built CLI's --help (scripts/man-page.mjs): every command gets a section, every
// setting's flag is there, and man(1) renders it without a warning.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../../src/config/settings.js';
// @ts-expect-error scripts/ are plain JavaScript without type declarations
import { manPage, parseHelp } from '../../scripts/man-page.mjs';

const BIN = fileURLToPath(new URL('../../bin/pgpipe', import.meta.url));
let page = '';
before(() => {
  const make = manPage as (bin: string, o: { version: string; date: string }) => string;
  page = make(BIN, { version: '0', date: '2026-01-01' });
});

it('has a section for every command --help lists', () => {
  const help = (words: string[]) => spawnSync(process.execPath, [BIN, ...words, '--help'], { encoding: 'utf8' }).stdout;
  const commands = (words: string[]): string[][] =>
    ((parseHelp as (t: string) => { lists: Record<string, string[][]> })(help(words)).lists.Commands ?? [])
      .map(([term]) => term!.split(' ')[0]!)
      .filter((name) => name !== 'help')
      .flatMap((name) => [[...words, name], ...commands([...words, name])]);
  const all = commands([]);
  assert.ok(all.length >= 10, `only ${all.length} commands found`);
  for (const words of all) {
    assert.match(page, new RegExp(`^\\.SS "pgpipe ${words.join(' ')}[ "]`, 'm'), words.join(' '));
  }
});

it('names every setting flag', () => {
  const roffed = page.replace(/\\-/g, '-');
  for (const s of SETTINGS) assert.ok(roffed.includes(s.flag.replace('[no-]', '').split(' ')[0]!), s.flag);
});

it('renders without warnings', { skip: spawnSync('man', ['--version']).status !== 0 && 'man-db not installed' }, () => {
  const env = { ...process.env, MANWIDTH: '80' };
  const result = spawnSync('man', ['--warnings', '-l', '-'], { input: page, encoding: 'utf8', env });
  assert.equal(result.status, 0);
  assert.equal(result.stderr, '');
  assert.match(result.stdout, /NAME\s+pgpipe\s+-\s+encrypt\s+incoming\s+mail/);
});
