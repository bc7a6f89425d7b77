// Admin commands are defined only when argv[0] is not a per-message command (filter, encrypt); help lists them all.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram } from '../../src/cli.js';

const names = async (first?: string): Promise<string[]> => (await buildProgram(first)).commands.map((c) => c.name());

describe('buildProgram', () => {
  it('defines every command for help, admin commands and no argument', async () => {
    for (const first of [undefined, '--help', 'help', 'user', 'doctor', 'Filter']) {
      const all = await names(first);
      for (const command of ['encrypt', 'filter', 'db', 'user', 'key', 'alias', 'doctor']) assert.ok(all.includes(command), `${String(first)}: ${command}`);
    }
  });

  it('filter and encrypt get only the per-message commands', async () => {
    assert.deepEqual((await names('filter')).sort(), ['encrypt', 'filter']);
    assert.deepEqual((await names('encrypt')).sort(), ['encrypt', 'filter']);
  });
});
