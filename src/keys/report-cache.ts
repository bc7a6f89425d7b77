// A short-lived, bounded memo of inspectKeys for a resident process (`pgpipe serve`): parsing a stored key text
// costs about a millisecond per key, and the same recipients get mail again and again. Keyed by a hash of the exact
// text, so a key that was set, added or removed (a different text) is never answered from here: the caller reads
// the row for every message and only the parsing of an unchanged text is saved. No I/O.
import { createHash } from 'node:crypto';
import { inspectKeys } from './inspect-keys.js';
import type { InspectKeys, KeyReport } from './types.js';

// ~11 KB of heap per parsed single-key entry (Curve25519; RSA-4096 less): 1,000 entries stay near 11 MB, small
// beside the messages a server holds in memory, and more than the distinct keyed recipients most servers see in
// one cache lifetime. The text bound caps rows that hold many keys.
export const DEFAULT_MAX_ENTRIES = 1_000;
export const DEFAULT_MAX_TEXT = 4 * 1024 * 1024;

export interface ReportCacheOptions {
  /** How long an entry is used after it was parsed, in ms; 0 disables the cache (every call inspects). */
  readonly ttlMs: number;
  readonly maxEntries?: number;
  /** Bound on the summed length (characters) of the cached texts; a longer single text is never cached. */
  readonly maxText?: number;
  /** Monotonic milliseconds (tests inject one). */
  readonly clock?: () => number;
  /** What is memoised (tests count calls). */
  readonly inspect?: InspectKeys;
}

export interface ReportCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
}

export interface ReportCache {
  readonly inspect: InspectKeys;
  stats(): ReportCacheStats;
}

interface Entry {
  readonly reports: Promise<KeyReport[]>;
  readonly born: number;
  readonly size: number;
}

export function createReportCache(options: ReportCacheOptions): ReportCache {
  const { ttlMs } = options;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxText = options.maxText ?? DEFAULT_MAX_TEXT;
  const clock = options.clock ?? (() => performance.now());
  const inspect = options.inspect ?? inspectKeys;
  // Insertion order is age order (every entry lives ttlMs from its insertion), so the first entry is the oldest.
  const entries = new Map<string, Entry>();
  let textTotal = 0;
  let hits = 0;
  let misses = 0;

  const drop = (hash: string, entry: Entry): void => {
    if (entries.get(hash) !== entry) return;
    entries.delete(hash);
    textTotal -= entry.size;
  };
  const sweep = (at: number): void => {
    for (const [hash, entry] of entries) {
      if (at - entry.born < ttlMs) break;
      drop(hash, entry);
    }
  };
  const makeRoom = (size: number): void => {
    for (const [hash, entry] of entries) {
      if (entries.size < maxEntries && textTotal + size <= maxText) break;
      drop(hash, entry);
    }
  };

  return {
    async inspect(text, now) {
      if (ttlMs <= 0 || text.length > maxText) {
        misses++;
        return inspect(text, now);
      }
      const at = clock();
      sweep(at);
      const hash = createHash('sha256').update(text).digest('base64');
      const cached = entries.get(hash);
      if (cached !== undefined) {
        const reports = await cached.reports;
        // A key that expired since it was parsed is judged again now (its primary's date is in the report), so
        // the cache's lifetime delays only what the report cannot show, such as a subkey's expiry.
        if (!reports.some((r) => r.expires !== null && r.expires <= now)) {
          hits++;
          return reports;
        }
        drop(hash, cached);
      }
      misses++;
      makeRoom(text.length);
      const entry: Entry = { reports: inspect(text, now), born: at, size: text.length };
      entries.set(hash, entry);
      textTotal += entry.size;
      // A failure is never remembered: the next message tries again.
      entry.reports.catch(() => drop(hash, entry));
      return entry.reports;
    },
    stats() {
      sweep(clock());
      return { hits, misses, entries: entries.size };
    },
  };
}
