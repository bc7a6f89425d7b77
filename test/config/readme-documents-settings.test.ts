// The README's configuration table is what operators read: every setting must be there under all three names.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SETTINGS } from '../../src/config/settings.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

for (const s of SETTINGS) {
  it(`README documents ${s.file}`, () => {
    const flag = (s.flag.startsWith('--[no-]') ? `--${s.flag.slice(7)}` : s.flag).split(' ')[0] ?? s.flag;
    for (const name of [flag, s.env, s.file]) assert.ok(readme.includes(`\`${name}`), `${name} missing from README`);
  });
}
