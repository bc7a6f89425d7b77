// resolveRecipients against the embedded PGlite store (tables created by openDb on first open).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { openDb } from '../../src/store/open-db.js';
import { defineResolveCases } from './resolve-cases.js';

defineResolveCases('embedded PGlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpipe-embedded-'));
  const db = await openDb(loadConfig({ flags: { dataDir: join(dir, 'db') }, env: {} }));
  return {
    db,
    close: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
