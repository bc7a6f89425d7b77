// The packaged /etc/pgpipe/pgpipe.conf is generated from SETTINGS: it must name every setting, parse as it is
// (all defaults), and parse with every default line uncommented to exactly the defaults (no line lies).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { configTemplate } from '../../src/config/config-template.js';
import { loadConfig, parseConfigFile } from '../../src/config/load-config.js';
import { SETTINGS } from '../../src/config/settings.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const template = configTemplate();
const withFile = (text: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpipe-conf-'));
  try {
    writeFileSync(join(dir, 'pgpipe.conf'), text);
    return loadConfig({ flags: {}, env: {}, configPath: join(dir, 'pgpipe.conf') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

it('names every setting once, as a commented-out line', () => {
  for (const s of SETTINGS) {
    const lines = template.split('\n').filter((l) => l.startsWith(`#${s.file} =`));
    assert.equal(lines.length, 1, `${s.file}: ${lines.length} lines`);
    assert.ok(template.includes(s.env), `${s.env} not mentioned`);
  }
});

it('sets nothing as installed', () => {
  assert.deepEqual(parseConfigFile(template, 'pgpipe.conf'), {});
  assert.deepEqual(withFile(template), withFile(''));
});

it('every commented default, uncommented, gives the defaults again', () => {
  const uncommented = template.replace(/^#([a-z_]+ = .+)$/gm, '$1');
  const set = Object.keys(parseConfigFile(uncommented, 'pgpipe.conf'));
  assert.ok(set.length >= 10, `only ${set.length} defaults written`);
  assert.deepEqual(withFile(uncommented), withFile(''));
});

it('keeps lines within 120 characters', () => {
  for (const line of template.split('\n')) assert.ok(line.length <= 120, line);
});
