// serve's metrics text read back by a strict parser of the Prometheus text format 0.0.4 (the rules Prometheus's own
// parser enforces: names, escapes, one HELP/TYPE per family before its samples, families in one group, histogram
// buckets in le order, cumulative, with +Inf equal to _count), and the counts it must carry.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  createServeMetrics,
  escapeHelp,
  escapeLabelValue,
  formatValue,
  LATENCY_BUCKETS_SECONDS,
  type MetricsOptions,
  type TransactionOutcome,
} from '../../src/serve/metrics.js';

type Sample = { name: string; labels: Map<string, string>; value: number };
type Family = { name: string; type: string; help: string; samples: Sample[] };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string): number {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  assert.match(text, /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, `not a float: ${text}`);
  return Number(text);
}

function unescape(text: string, allowed: string): string {
  return text.replace(/\\(.)/g, (_m, c: string) => {
    assert.ok(allowed.includes(c), `bad escape \\${c}`);
    return c === 'n' ? '\n' : c;
  });
}

/** Parses one sample line strictly: name, optional {labels}, one space, a value, no timestamp from us. */
function parseSample(line: string): Sample {
  const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  assert.ok(head, `bad sample line: ${line}`);
  const name = head[1] as string;
  let rest = line.slice(name.length);
  const labels = new Map<string, string>();
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const pair = /^([^=]*)="((?:[^"\\\n]|\\.)*)"(,?)/.exec(rest);
      assert.ok(pair, `bad label set in: ${line}`);
      const [all, key, raw, comma] = pair as unknown as [string, string, string, string];
      assert.match(key, LABEL_NAME, `bad label name in: ${line}`);
      assert.ok(!key.startsWith('__'), `reserved label name in: ${line}`);
      assert.ok(!labels.has(key), `duplicate label ${key} in: ${line}`);
      labels.set(key, unescape(raw, '\\"n'));
      rest = rest.slice(all.length);
      if (comma === '' && !rest.startsWith('}')) assert.fail(`labels not separated by a comma: ${line}`);
    }
    rest = rest.slice(1);
  }
  const value = / ([^ ]+)$/.exec(rest);
  assert.ok(value && value.index === 0, `bad value part in: ${line}`);
  return { name, labels, value: parseValue(value[1] as string) };
}

/** The family a sample belongs to: histograms own name_bucket, name_sum and name_count. */
function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(sample);
  if (exact !== undefined) return exact;
  const base = /^(.*)_(bucket|sum|count)$/.exec(sample)?.[1];
  const family = base === undefined ? undefined : families.get(base);
  return family?.type === 'histogram' ? family : undefined;
}

function parseExposition(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'the last line ends with a line feed');
  const families = new Map<string, Family>();
  const finished = new Set<string>();
  const seen = new Set<string>();
  let current: Family | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    assert.notEqual(line, '', 'no empty lines');
    assert.ok(!line.includes('\r'), 'no carriage returns');
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta !== null) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      assert.match(name, METRIC_NAME);
      assert.ok(!finished.has(name), `${name}: its lines are not one group`);
      let family = families.get(name);
      if (family === undefined) {
        if (current !== undefined) finished.add(current.name);
        family = { name, type: '', help: '', samples: [] };
        families.set(name, family);
        current = family;
      }
      assert.equal(family, current, `${name}: its lines are not one group`);
      assert.equal(family.samples.length, 0, `${name}: ${kind} after its first sample`);
      if (kind === 'HELP') {
        assert.equal(family.help, '', `${name}: a second HELP`);
        family.help = unescape(rest, '\\n');
        assert.notEqual(family.help, '', `${name}: empty HELP`);
      } else {
        assert.equal(family.type, '', `${name}: a second TYPE`);
        assert.ok(TYPES.has(rest), `${name}: unknown TYPE ${rest}`);
        family.type = rest;
      }
      continue;
    }
    assert.ok(!line.startsWith('#'), `unexpected comment: ${line}`);
    const sample = parseSample(line);
    const family = familyOf(sample.name, families);
    assert.ok(family, `${sample.name}: a sample without HELP and TYPE`);
    assert.equal(family, current, `${sample.name}: its lines are not one group`);
    const key = `${sample.name}{${[...sample.labels].sort().join(',')}}`;
    assert.ok(!seen.has(key), `duplicate series ${key}`);
    seen.add(key);
    family.samples.push(sample);
  }
  for (const family of families.values()) {
    assert.notEqual(family.help, '', `${family.name}: no HELP`);
    assert.notEqual(family.type, '', `${family.name}: no TYPE`);
    assert.ok(family.samples.length > 0, `${family.name}: no samples`);
    if (family.type === 'counter') {
      assert.ok(family.name.endsWith('_total'), `${family.name}: a counter's name ends in _total`);
      for (const s of family.samples) assert.ok(s.value >= 0, `${family.name}: a negative counter`);
    }
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

function checkHistogram(family: Family): void {
  const buckets = family.samples.filter((s) => s.name === `${family.name}_bucket`);
  const les = buckets.map((b) => parseValue(b.labels.get('le') ?? assert.fail('a bucket without le')));
  assert.deepEqual(
    les,
    [...les].sort((a, b) => a - b),
    'buckets in increasing le order',
  );
  assert.equal(new Set(les).size, les.length, 'no le twice');
  assert.equal(les.at(-1), Infinity, 'the last bucket is +Inf');
  assert.equal(buckets.at(-1)?.labels.get('le'), '+Inf');
  for (let i = 1; i < buckets.length; i++) {
    assert.ok((buckets[i]?.value ?? -1) >= (buckets[i - 1]?.value ?? 0), 'bucket counts are cumulative');
  }
  const count = family.samples.filter((s) => s.name === `${family.name}_count`);
  const sum = family.samples.filter((s) => s.name === `${family.name}_sum`);
  assert.equal(count.length, 1, 'one _count');
  assert.equal(sum.length, 1, 'one _sum');
  assert.equal(buckets.at(-1)?.value, count[0]?.value, '+Inf bucket == _count');
}

const value = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number => {
  const family = familyOf(name, families) ?? assert.fail(`no family for ${name}`);
  const sample = family.samples.find(
    (s) =>
      s.name === name &&
      s.labels.size === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels.get(k) === v),
  );
  return sample?.value ?? assert.fail(`no sample ${name} ${JSON.stringify(labels)}`);
};

/** Metrics on a clock the test moves. */
function clocked(options: MetricsOptions = {}) {
  let now = 1_000;
  const metrics = createServeMetrics({ clockMs: () => now, residentBytes: () => 123_456_789, ...options });
  return { metrics, advance: (ms: number) => void (now += ms) };
}

describe('serve metrics: the text', () => {
  it('a fresh service renders every family, each series at 0, in valid format', () => {
    const families = parseExposition(createServeMetrics({ startTimeSeconds: 1_700_000_000.5 }).render());
    assert.deepEqual(
      [...families.keys()],
      [
        'pgpipe_messages_total',
        'pgpipe_recipients_total',
        'pgpipe_transaction_duration_seconds',
        'pgpipe_transactions_in_flight',
        'pgpipe_connections_open',
        'pgpipe_connections_refused_total',
        'pgpipe_memory_refusals_total',
        'process_start_time_seconds',
        'process_resident_memory_bytes',
      ],
    );
    for (const outcome of ['delivered', 'deferred', 'rejected', 'partial']) {
      assert.equal(value(families, 'pgpipe_messages_total', { outcome }), 0);
    }
    for (const result of ['accepted', 'deferred', 'rejected']) {
      assert.equal(value(families, 'pgpipe_recipients_total', { result }), 0);
    }
    assert.equal(value(families, 'pgpipe_transaction_duration_seconds_count'), 0);
    assert.equal(value(families, 'process_start_time_seconds'), 1_700_000_000.5);
    assert.ok(value(families, 'process_resident_memory_bytes') > 1_000_000, 'the real RSS by default');
    assert.equal(families.get('pgpipe_messages_total')?.type, 'counter');
    assert.equal(families.get('pgpipe_transactions_in_flight')?.type, 'gauge');
  });

  it('the default start time is this process start, in seconds', () => {
    const start = value(parseExposition(createServeMetrics().render()), 'process_start_time_seconds');
    const expected = Date.now() / 1000 - process.uptime();
    assert.ok(Math.abs(start - expected) < 2, `${start} vs ${expected}`);
  });

  it('the latency buckets run from 1 ms to 120 s in increasing order', () => {
    assert.equal(LATENCY_BUCKETS_SECONDS[0], 0.001);
    assert.equal(LATENCY_BUCKETS_SECONDS.at(-1), 120);
    assert.deepEqual(
      [...LATENCY_BUCKETS_SECONDS],
      [...LATENCY_BUCKETS_SECONDS].sort((a, b) => a - b),
    );
  });
});

// Prometheus's own parser and linter (Debian's `prometheus` package has it), where it is installed.
const PROMTOOL = process.env.PGPIPE_PROMTOOL ?? '/usr/bin/promtool';

describe('serve metrics: Prometheus reads it', () => {
  it('promtool check metrics accepts a busy render without a complaint', (t) => {
    if (!existsSync(PROMTOOL)) return t.skip(`no ${PROMTOOL} (apt-get install prometheus, or set PGPIPE_PROMTOOL)`);
    const { metrics } = clocked({ keyCache: () => ({ hits: 9, misses: 1, entries: 1 }), bytesHeld: () => 4096 });
    metrics.transactionStarted().finish('partial', { accepted: 1, rejected: 1 });
    metrics.transactionStarted().finish('odd"\\\nlabel' as TransactionOutcome);
    metrics.transactionStarted();
    const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: metrics.render(), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.equal(run.stdout + run.stderr, '', 'no lint findings');
  });
});

describe('serve metrics: the counts', () => {
  it('counts transactions by outcome, recipients by result, and their latencies in cumulative buckets', () => {
    const { metrics, advance } = clocked();
    const observe = (ms: number, outcome: TransactionOutcome, recipients = {}): number => {
      const timer = metrics.transactionStarted();
      advance(ms);
      return timer.finish(outcome, recipients);
    };
    assert.equal(observe(0.5, 'delivered', { accepted: 2 }), 0.0005);
    observe(1, 'delivered', { accepted: 1 }); // exactly on a bound: le is "less or equal"
    observe(15, 'partial', { accepted: 1, rejected: 1, deferred: 1 });
    observe(3_000, 'deferred', { deferred: 3 });
    observe(200_000, 'rejected', { rejected: 1 }); // beyond the last bound: only in +Inf
    const families = parseExposition(metrics.render());
    assert.equal(value(families, 'pgpipe_messages_total', { outcome: 'delivered' }), 2);
    assert.equal(value(families, 'pgpipe_messages_total', { outcome: 'partial' }), 1);
    assert.equal(value(families, 'pgpipe_messages_total', { outcome: 'deferred' }), 1);
    assert.equal(value(families, 'pgpipe_messages_total', { outcome: 'rejected' }), 1);
    assert.equal(value(families, 'pgpipe_recipients_total', { result: 'accepted' }), 4);
    assert.equal(value(families, 'pgpipe_recipients_total', { result: 'deferred' }), 4);
    assert.equal(value(families, 'pgpipe_recipients_total', { result: 'rejected' }), 2);
    const bucket = (le: string): number => value(families, 'pgpipe_transaction_duration_seconds_bucket', { le });
    assert.equal(bucket('0.001'), 2);
    assert.equal(bucket('0.01'), 2);
    assert.equal(bucket('0.02'), 3);
    assert.equal(bucket('2'), 3);
    assert.equal(bucket('5'), 4);
    assert.equal(bucket('120'), 4);
    assert.equal(bucket('+Inf'), 5);
    assert.equal(value(families, 'pgpipe_transaction_duration_seconds_count'), 5);
    const sum = value(families, 'pgpipe_transaction_duration_seconds_sum');
    assert.ok(Math.abs(sum - 203.0165) < 1e-9, String(sum));
  });

  it('counts a transaction in flight until it finishes, and a second finish() not again', () => {
    const { metrics, advance } = clocked();
    const inFlight = (): number => value(parseExposition(metrics.render()), 'pgpipe_transactions_in_flight');
    const a = metrics.transactionStarted();
    const b = metrics.transactionStarted();
    assert.equal(inFlight(), 2);
    advance(10);
    a.finish('delivered', { accepted: 1 });
    assert.equal(inFlight(), 1);
    a.finish('deferred', { deferred: 1 }); // e.g. an error path after the reply: must not count twice
    b.finish('deferred');
    const families = parseExposition(metrics.render());
    assert.equal(value(families, 'pgpipe_transactions_in_flight'), 0);
    assert.equal(value(families, 'pgpipe_messages_total', { outcome: 'delivered' }), 1);
    assert.equal(value(families, 'pgpipe_messages_total', { outcome: 'deferred' }), 1);
    assert.equal(value(families, 'pgpipe_recipients_total', { result: 'deferred' }), 0);
    assert.equal(value(families, 'pgpipe_transaction_duration_seconds_count'), 2);
  });

  it('gauges connections and counts 421 and 452 refusals', () => {
    const { metrics } = clocked();
    metrics.connectionOpened();
    metrics.connectionOpened();
    metrics.connectionOpened();
    metrics.connectionClosed();
    metrics.refusedSaturated();
    metrics.refusedMemory();
    metrics.refusedMemory();
    let families = parseExposition(metrics.render());
    assert.equal(value(families, 'pgpipe_connections_open'), 2);
    assert.equal(value(families, 'pgpipe_connections_refused_total'), 1);
    assert.equal(value(families, 'pgpipe_memory_refusals_total'), 2);
    for (let i = 0; i < 5; i++) metrics.connectionClosed(); // a stray close never makes the gauge negative
    families = parseExposition(metrics.render());
    assert.equal(value(families, 'pgpipe_connections_open'), 0);
  });

  it('reads the key cache and the memory budget at each render', () => {
    let stats = { hits: 0, misses: 0, entries: 0 };
    let held = 0;
    const { metrics } = clocked({ keyCache: () => stats, bytesHeld: () => held });
    let families = parseExposition(metrics.render());
    assert.equal(value(families, 'pgpipe_key_cache_lookups_total', { result: 'hit' }), 0);
    stats = { hits: 41, misses: 3, entries: 2 };
    held = 20_971_520;
    families = parseExposition(metrics.render());
    assert.equal(value(families, 'pgpipe_key_cache_lookups_total', { result: 'hit' }), 41);
    assert.equal(value(families, 'pgpipe_key_cache_lookups_total', { result: 'miss' }), 3);
    assert.equal(value(families, 'pgpipe_key_cache_entries'), 2);
    assert.equal(value(families, 'pgpipe_memory_held_bytes'), 20_971_520);
    assert.equal(value(families, 'process_resident_memory_bytes'), 123_456_789);
  });

  it('a throwing or non-numeric callback drops only its own families; render never throws', () => {
    const { metrics } = clocked({
      keyCache: () => {
        throw new Error('cache gone');
      },
      bytesHeld: () => NaN,
      residentBytes: () => {
        throw new Error('EMFILE');
      },
    });
    const families = parseExposition(metrics.render());
    for (const gone of [
      'pgpipe_key_cache_lookups_total',
      'pgpipe_key_cache_entries',
      'pgpipe_memory_held_bytes',
      'process_resident_memory_bytes',
    ]) {
      assert.ok(!families.has(gone), gone);
    }
    assert.equal(value(families, 'pgpipe_messages_total', { outcome: 'delivered' }), 0);
  });
});

describe('serve metrics: escaping', () => {
  it('escapes backslash, double quote and line feed in label values, and nothing else', () => {
    assert.equal(escapeLabelValue('plain'), 'plain');
    assert.equal(escapeLabelValue('a"b'), 'a\\"b');
    assert.equal(escapeLabelValue('a\\b'), 'a\\\\b');
    assert.equal(escapeLabelValue('a\nb'), 'a\\nb');
    assert.equal(escapeLabelValue('\\n'), '\\\\n'); // a literal backslash-n stays two characters
    assert.equal(escapeLabelValue("tab\t'é"), "tab\t'é");
  });

  it('escapes backslash and line feed in HELP, but not a quote', () => {
    assert.equal(escapeHelp('say "x"\\\nthen'), 'say "x"\\\\\\nthen');
  });

  it('a label value with every special character survives a round trip through the parser', () => {
    const { metrics } = clocked();
    const odd = 'we"ird\\label\nvalue' as TransactionOutcome;
    metrics.transactionStarted().finish(odd);
    const text = metrics.render();
    assert.ok(text.includes('pgpipe_messages_total{outcome="we\\"ird\\\\label\\nvalue"} 1\n'), text);
    assert.equal(value(parseExposition(text), 'pgpipe_messages_total', { outcome: odd }), 1);
  });

  it('writes special float values as the format spells them', () => {
    assert.equal(formatValue(NaN), 'NaN');
    assert.equal(formatValue(Infinity), '+Inf');
    assert.equal(formatValue(-Infinity), '-Inf');
    assert.equal(formatValue(0.001), '0.001');
    assert.equal(formatValue(1e21), '1e+21');
    assert.equal(parseValue(formatValue(1e-7)), 1e-7);
  });
});

describe('serve metrics: the checker itself refuses broken text', () => {
  const good = [
    '# HELP h_seconds x',
    '# TYPE h_seconds histogram',
    'h_seconds_bucket{le="0.1"} 1',
    'h_seconds_bucket{le="+Inf"} 2',
    'h_seconds_sum 0.3',
    'h_seconds_count 2',
    '# HELP c_total y',
    '# TYPE c_total counter',
    'c_total{a="b"} 1',
    '',
  ].join('\n');
  it('accepts the well-formed sample', () => assert.equal(parseExposition(good).size, 2));
  for (const [what, broken] of [
    ['no final line feed', good.slice(0, -1)],
    ['a second TYPE', good.replace('# TYPE c_total counter', '# TYPE c_total counter\n# TYPE c_total counter')],
    ['a sample without TYPE', good.replace('# TYPE c_total counter\n', '')],
    ['buckets not cumulative', good.replace('le="+Inf"} 2', 'le="+Inf"} 0').replace('_count 2', '_count 0')],
    ['+Inf not _count', good.replace('_count 2', '_count 3')],
    ['buckets out of le order', good.replace('le="0.1"} 1', 'le="0.1"} 1\nh_seconds_bucket{le="0.05"} 1')],
    ['no +Inf bucket', good.replace('h_seconds_bucket{le="+Inf"} 2\n', '')],
    ['a family split in two groups', good + 'h_seconds_sum 1\n'],
    ['an unknown escape', good.replace('a="b"', 'a="\\t"')],
    ['a counter without _total', good.replaceAll('c_total', 'c')],
    ['a duplicate series', good.replace('c_total{a="b"} 1', 'c_total{a="b"} 1\nc_total{a="b"} 2')],
    ['a bad value', good.replace('c_total{a="b"} 1', 'c_total{a="b"} one')],
  ] as const) {
    it(`refuses ${what}`, () => assert.throws(() => parseExposition(broken), assert.AssertionError));
  }
});
