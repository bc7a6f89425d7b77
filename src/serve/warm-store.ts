// PLACEHOLDER until the warm-store branch lands: the per-lookup key lookup of the pipe modes.
import type { Config } from '../config/load-config.js';
import { createKeyLookup } from '../adapters/key-lookup.js';
import type { KeyLookup } from '../filter/ports.js';
import { permanent } from '../errors.js';

export interface WarmStore {
  readonly keys: KeyLookup;
  cacheStats(): { hits: number; misses: number; entries: number };
  close(): Promise<void>;
}

export async function openWarmStore(config: Config): Promise<WarmStore> {
  if (config.databaseUrl === undefined) throw permanent('config.invalid', 'serve needs database_url');
  return {
    keys: createKeyLookup(config),
    cacheStats: () => ({ hits: 0, misses: 0, entries: 0 }),
    close: async () => {},
  };
}
