// Admin commands are defined only when argv[0] is not a per-message command (filter, deliver, encrypt); help lists
// them all.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram } from '../../src/cli.js';

const names = async (first?: string): Promise<string[]> => (await buildProgram(first)).commands.map((c) => c.name());

describe('buildProgram', () => {
  it('defines every command for help, admin commands and no argument', async () => {
    for (const first of [undefined, '--help', 'help', 'user', 'doctor', 'Filter']) {
      const all = await names(first);
      const commands = ['encrypt', 'filter', 'deliver', 'db', 'user', 'key', 'alias', 'doctor', 'setup'];
      for (const command of commands) assert.ok(all.includes(command), `${String(first)}: ${command}`);
    }
  });

  it('filter, deliver and encrypt get only the per-message commands', async () => {
    for (const first of ['filter', 'deliver', 'encrypt']) {
      assert.deepEqual((await names(first)).sort(), ['deliver', 'encrypt', 'filter'], first);
    }
  });
});
