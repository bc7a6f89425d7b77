// serve's counters and their rendering in the Prometheus text exposition format 0.0.4. No I/O: the caller reads
// what others own (key cache, memory budget) through callbacks at render time, and serves the text (metrics-http.ts).
// Never throws from render(): a failing callback drops its own metric family, never the scrape or the service.

/** A finished transaction, as the caller decided it (LMTP: `partial` when some recipients got 2xx and some not). */
export type TransactionOutcome = 'delivered' | 'deferred' | 'rejected' | 'partial';
/** One recipient's final answer: 2xx, 4xx, 5xx. */
export type RecipientResult = 'accepted' | 'deferred' | 'rejected';
export interface KeyCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
}
export type RecipientCounts = Partial<Readonly<Record<RecipientResult, number>>>;

export interface MetricsOptions {
  /** Totals since start (must not go down): read at each render. */
  readonly keyCache?: () => KeyCacheStats;
  /** Message bytes the memory budget holds right now. */
  readonly bytesHeld?: () => number;
  /** Monotonic clock in milliseconds, for latencies (default performance.now). */
  readonly clockMs?: () => number;
  /** The process's resident set size in bytes (default process.memoryUsage().rss). */
  readonly residentBytes?: () => number;
  /** When the process started, in seconds since the epoch (default: performance.timeOrigin). */
  readonly startTimeSeconds?: number;
}

/** One transaction under way: counted in flight until finish() (only the first call counts). */
export interface TransactionTimer {
  /** Records the outcome, the recipients' results and the latency; returns the latency in seconds. */
  finish(outcome: TransactionOutcome, recipients?: RecipientCounts): number;
}

export interface ServeMetrics {
  /** Call when a message's DATA has been received; finish() when its last reply is sent. */
  transactionStarted(): TransactionTimer;
  connectionOpened(): void;
  connectionClosed(): void;
  /** A connection answered 421 because serve_max_clients sessions were open. */
  refusedSaturated(): void;
  /** A transaction answered 452 because the memory budget was spent. */
  refusedMemory(): void;
  render(): string;
}

// 1-2-5 steps from 1 ms to 120 s: fine where the p99 target (50 ms) lies, coarse up to the deadline's range.
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120,
];
const OUTCOMES: readonly TransactionOutcome[] = ['delivered', 'deferred', 'rejected', 'partial'];
const RESULTS: readonly RecipientResult[] = ['accepted', 'deferred', 'rejected'];

/** A sample value as the format writes it (Go's ParseFloat reads all of these). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Format 0.0.4: in a label value, backslash, double quote and line feed are escaped. */
export const escapeLabelValue = (value: string): string =>
  value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));

/** Format 0.0.4: in HELP text, backslash and line feed are escaped (a quote is literal). */
export const escapeHelp = (text: string): string => text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));

type Labels = readonly (readonly [string, string])[];
type Sample = { readonly suffix?: string; readonly labels?: Labels; readonly value: number };
type Family = { readonly name: string; readonly type: 'counter' | 'gauge' | 'histogram'; readonly help: string };

function sampleLine(name: string, { suffix = '', labels = [], value }: Sample): string {
  const set = labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',');
  return `${name}${suffix}${set === '' ? '' : `{${set}}`} ${formatValue(value)}`;
}

function familyText(family: Family, samples: readonly Sample[]): string {
  const lines = [`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`];
  for (const sample of samples) lines.push(sampleLine(family.name, sample));
  return lines.join('\n') + '\n';
}

/** Counts seeded with every known label value, so each series exists (at 0) before its first event. */
function labelledCounter<L extends string>(known: readonly L[]): Map<string, number> {
  return new Map(known.map((label) => [label, 0]));
}

export function createServeMetrics(options: MetricsOptions = {}): ServeMetrics {
  const clockMs = options.clockMs ?? (() => performance.now());
  const residentBytes = options.residentBytes ?? (() => process.memoryUsage().rss);
  // Node's time origin is the moment the process started.
  const startTimeSeconds = options.startTimeSeconds ?? Math.floor(performance.timeOrigin) / 1000;

  const messages = labelledCounter(OUTCOMES);
  const recipients = labelledCounter(RESULTS);
  // Per-bucket (not yet cumulative) counts; the last slot is +Inf.
  const buckets = new Array<number>(LATENCY_BUCKETS_SECONDS.length + 1).fill(0);
  let latencySum = 0;
  let latencyCount = 0;
  let inFlight = 0;
  let connections = 0;
  let refusedSaturated = 0;
  let refusedMemory = 0;

  const add = (map: Map<string, number>, label: string, n: number): void => {
    if (Number.isFinite(n) && n > 0) map.set(label, (map.get(label) ?? 0) + n);
  };

  const observe = (seconds: number): void => {
    let index = LATENCY_BUCKETS_SECONDS.findIndex((bound) => seconds <= bound);
    if (index === -1) index = LATENCY_BUCKETS_SECONDS.length;
    buckets[index] = (buckets[index] ?? 0) + 1;
    latencySum += seconds;
    latencyCount += 1;
  };

  /** A family whose samples come from a callback: if it throws or lies (not a finite number), it is left out. */
  const guarded = (family: Family, read: () => readonly Sample[]): string => {
    try {
      const samples = read();
      return samples.every((s) => Number.isFinite(s.value)) ? familyText(family, samples) : '';
    } catch {
      return '';
    }
  };

  function render(): string {
    const parts: string[] = [];
    const labelled = (label: string, map: Map<string, number>): Sample[] =>
      [...map].map(([value, count]) => ({ labels: [[label, value]], value: count }));
    parts.push(
      familyText(
        { name: 'pgpipe_messages_total', type: 'counter', help: 'Mail transactions finished, by outcome.' },
        labelled('outcome', messages),
      ),
      familyText(
        { name: 'pgpipe_recipients_total', type: 'counter', help: 'Recipients answered, by result (2xx, 4xx, 5xx).' },
        labelled('result', recipients),
      ),
    );
    let cumulative = 0;
    const histogram: Sample[] = LATENCY_BUCKETS_SECONDS.map((bound, i) => {
      cumulative += buckets[i] ?? 0;
      return { suffix: '_bucket', labels: [['le', formatValue(bound)]], value: cumulative };
    });
    histogram.push(
      { suffix: '_bucket', labels: [['le', '+Inf']], value: latencyCount },
      { suffix: '_sum', value: latencySum },
      { suffix: '_count', value: latencyCount },
    );
    parts.push(
      familyText(
        {
          name: 'pgpipe_transaction_duration_seconds',
          type: 'histogram',
          help: 'Time from the end of DATA to the last reply of a transaction.',
        },
        histogram,
      ),
      familyText({ name: 'pgpipe_transactions_in_flight', type: 'gauge', help: 'Transactions being processed now.' }, [
        { value: inFlight },
      ]),
      familyText({ name: 'pgpipe_connections_open', type: 'gauge', help: 'Client connections open now.' }, [
        { value: connections },
      ]),
      familyText(
        {
          name: 'pgpipe_connections_refused_total',
          type: 'counter',
          help: 'Connections answered 421 because serve_max_clients sessions were open.',
        },
        [{ value: refusedSaturated }],
      ),
      familyText(
        {
          name: 'pgpipe_memory_refusals_total',
          type: 'counter',
          help: 'Transactions answered 452 because the memory budget (serve_memory_limit) was spent.',
        },
        [{ value: refusedMemory }],
      ),
    );
    const { keyCache, bytesHeld } = options;
    if (keyCache !== undefined) {
      // One read for both families, so hits, misses and entries come from the same moment.
      let stats: KeyCacheStats | undefined;
      const read = (): KeyCacheStats => (stats ??= keyCache());
      parts.push(
        guarded(
          {
            name: 'pgpipe_key_cache_lookups_total',
            type: 'counter',
            help: 'Recipient key lookups answered from the cache (hit) or the database (miss).',
          },
          () => [
            { labels: [['result', 'hit']], value: read().hits },
            { labels: [['result', 'miss']], value: read().misses },
          ],
        ),
        guarded({ name: 'pgpipe_key_cache_entries', type: 'gauge', help: 'Parsed keys held in the cache now.' }, () => [
          { value: read().entries },
        ]),
      );
    }
    if (bytesHeld !== undefined) {
      parts.push(
        guarded(
          {
            name: 'pgpipe_memory_held_bytes',
            type: 'gauge',
            help: 'Message bytes held in memory now (counted against serve_memory_limit).',
          },
          () => [{ value: bytesHeld() }],
        ),
      );
    }
    // The standard process metrics' names (Prometheus client library guidelines), so stock dashboards and alerts
    // such as `time() - process_start_time_seconds` work unchanged.
    parts.push(
      familyText(
        {
          name: 'process_start_time_seconds',
          type: 'gauge',
          help: 'Start time of the process since unix epoch in seconds.',
        },
        [{ value: startTimeSeconds }],
      ),
      guarded({ name: 'process_resident_memory_bytes', type: 'gauge', help: 'Resident memory size in bytes.' }, () => [
        { value: residentBytes() },
      ]),
    );
    return parts.join('');
  }

  return {
    transactionStarted() {
      const started = clockMs();
      let finished = false;
      inFlight += 1;
      return {
        finish(outcome, counts = {}) {
          const seconds = Math.max(0, (clockMs() - started) / 1000);
          if (finished) return seconds;
          finished = true;
          inFlight -= 1;
          add(messages, outcome, 1);
          for (const result of RESULTS) add(recipients, result, counts[result] ?? 0);
          observe(seconds);
          return seconds;
        },
      };
    },
    connectionOpened: () => void (connections += 1),
    connectionClosed: () => void (connections = Math.max(0, connections - 1)),
    refusedSaturated: () => void (refusedSaturated += 1),
    refusedMemory: () => void (refusedMemory += 1),
    render,
  };
}
