// Creating an embedded (PGlite) store costs 5-15 s of initdb; test/run.js makes one template per run and tests
// copy it, so each test still gets its own fresh store with the tutorial's tables and nothing else.
import { cpSync, existsSync } from 'node:fs';

/** Fills `dataDir` with a copy of the run's empty template store, when there is one and dataDir is new. */
export function seedEmbeddedDir(dataDir: string): string {
  const template = process.env.PGPIPE_TEST_EMBEDDED_TEMPLATE;
  if (template !== undefined && existsSync(template) && !existsSync(dataDir)) {
    cpSync(template, dataDir, { recursive: true });
  }
  return dataDir;
}
