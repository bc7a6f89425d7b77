// Describes the machine and formats the bench results as Markdown tables (printed and written to RESULTS.md).
// Pure formatting apart from machineInfo(), which only reads /proc and runs `--version` commands.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

function firstLine(file, args) {
  try {
    return execFileSync(file, args, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .split('\n')[0]
      .trim();
  } catch {
    return 'unknown';
  }
}

export function machineInfo(root) {
  const model = cpus()[0]?.model?.trim() || 'unknown';
  let cpuModel = model;
  try {
    cpuModel =
      readFileSync('/proc/cpuinfo', 'utf8')
        .match(/^model name\s*:\s*(.+)$/m)?.[1]
        ?.trim() ?? model;
  } catch {
    // not Linux
  }
  const openpgp = JSON.parse(readFileSync(`${root}/node_modules/openpgp/package.json`, 'utf8')).version;
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpu: cpuModel,
    nproc: firstLine('nproc', []),
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    kernel: firstLine('uname', ['-sr']),
    node: process.version,
    openpgp,
    perl: firstLine('perl', ['-e', 'print $^V']),
    gpg: firstLine('gpg', ['--version']),
    commit:
      firstLine('git', ['-C', root, 'rev-parse', '--short', 'HEAD']) +
      (firstLine('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']) ? ' + uncommitted changes' : ''),
  };
}

const ms = (value) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`);
const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`;
const ratio = (value) => `${value.toFixed(2)}x`;
// GNU time reports CPU in 10 ms steps: below that there is no figure to show or divide by.
const cpu = (value) => (value < 10 ? '<10 ms' : ms(value));
const cpuRatio = (reference, pgpipe) => (reference < 10 || pgpipe < 10 ? '—' : `**${ratio(reference / pgpipe)}**`);

/** A Markdown table; the first `textColumns` columns are left-aligned, the rest (figures) right-aligned. */
function table(head, rows, textColumns = 2) {
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < textColumns ? '---' : '---:')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

/**
 * @param {{ machine, command: string, settings: string, perMessage: object[], throughput: object[] }} results
 */
export function formatResults({ machine, command, settings, perMessage, throughput, pipeModes = [], serve = null }) {
  const perMessageTable = table(
    [
      'Workload',
      'Key',
      'pgpipe',
      'gpgit (ref)',
      'gpg floor',
      'ref/pgpipe time',
      'pgpipe RSS',
      'ref RSS',
      'floor RSS',
      'ref/pgpipe RSS',
    ],
    perMessage.map((r) => [
      r.workload,
      r.key,
      ms(r.pgpipe.ms),
      ms(r.reference.ms),
      ms(r.floor.ms),
      `**${ratio(r.reference.ms / r.pgpipe.ms)}**`,
      mb(r.pgpipe.rssKb),
      mb(r.reference.rssKb),
      mb(r.floor.rssKb),
      `**${ratio(r.reference.rssKb / r.pgpipe.rssKb)}**`,
    ]),
  );
  const cpuTable = table(
    ['Workload', 'Key', 'pgpipe CPU', 'gpgit (ref) CPU', 'gpg floor CPU', 'ref/pgpipe CPU'],
    perMessage.map((r) => [
      r.workload,
      r.key,
      cpu(r.pgpipe.cpuMs),
      cpu(r.reference.cpuMs),
      cpu(r.floor.cpuMs),
      cpuRatio(r.reference.cpuMs, r.pgpipe.cpuMs),
    ]),
  );
  const throughputTable = table(
    ['Run', 'Messages', 'pgpipe filter', 'pgpipe deliver', 'gpgit wrapper (ref)', 'filter/ref', 'deliver/ref'],
    throughput.map((r) => [
      r.mode,
      String(r.messages),
      `${r.pgpipe.toFixed(1)} msg/s`,
      `${r.deliver.toFixed(1)} msg/s`,
      `${r.reference.toFixed(1)} msg/s`,
      `**${ratio(r.pgpipe / r.reference)}**`,
      `**${ratio(r.deliver / r.reference)}**`,
    ]),
  );
  const argvText = {
    pgpipe: '`filter -oi -f S R`',
    deliver: '`deliver --lmtp unix:SINK -f S -- R`',
    reference: '`gpgit_postfix.sh -oi -f S R`',
  };
  const label = {
    pgpipe: 'pgpipe filter (sendmail stand-in)',
    deliver: 'pgpipe deliver (LMTP sink)',
    reference: 'gpgit wrapper (sendmail stand-in)',
  };
  const pipeTable = table(
    ['Command', 'as pipe(8) runs it', 'wall', 'CPU', 'peak RSS'],
    pipeModes.map((m) => [label[m.name] ?? m.name, argvText[m.name] ?? '', ms(m.ms), cpu(m.cpuMs), mb(m.rssKb)]),
  );
  const throughputSection = `## Postfix pipe(8) modes (10 KB message, Curve25519 key, no spam check)

\`pgpipe filter\` and the tutorial's gpgit wrapper re-inject with a sendmail stand-in that discards
(bench/sendmail-discard.sh); \`pgpipe deliver\` hands the copy over LMTP to a sink that answers 250 and discards
(bench/lmtp-sink.js, smtp-server in LMTP mode, greeting at once as Dovecot does). Real re-injection also costs
Postfix a queue file and a second pass (pickup, cleanup, qmgr, delivery), which deliver does not need; that is not in
these figures.

Per message (median wall and CPU of the process tree, the stand-ins included and the LMTP sink not):

${pipeTable}

Throughput:

${throughputTable}
`;
  return `# pgpipe benchmark results

Generated by \`${command}\` on ${machine.date} (commit ${machine.commit}).
Machine: ${machine.cpu}, nproc ${machine.nproc}, ${machine.memory} RAM, ${machine.kernel}.
Versions: Node ${machine.node}, openpgp ${machine.openpgp}, perl ${machine.perl}, ${machine.gpg}.
Settings: ${settings}.

Ratios are what matter; absolute times move from machine to machine. "ref" is gpgit's PGP/MIME path
(bench/gpgit-reference.pl: MIME::Parser + Mail::GnuPG mime_encrypt calling gpg); "gpg floor" is plain
\`gpg --encrypt --armor\` of the same bytes. Times are medians of whole-process wall time per message (runs
alternate pgpipe/ref/floor); RSS is the peak resident set of the largest process (GNU time %M). Every pgpipe
output was decrypted with gpg and compared with the original body.

## Per message (\`pgpipe encrypt\`, key from PostgreSQL)

${perMessageTable}

CPU time (user + system of the whole process tree, GNU time, 10 ms resolution; median) — steadier than wall time
when the machine is busy:

${cpuTable}

${throughput.length === 0 ? '' : throughputSection}${serve === null ? '' : `\n${formatServe(serve, throughput)}`}`;
}

const perSecond = (value) => `${value.toFixed(value >= 100 ? 0 : 1)} msg/s`;
const latency = (value) => (value === null || value === undefined ? '—' : `${value.toFixed(value >= 10 ? 0 : 1)} ms`);
const percent = (share) => (share === null || share === undefined ? '—' : `${(share * 100).toFixed(0)}%`);
const perMsg = (ms, n) => (n > 0 && Number.isFinite(ms) ? `${(ms / n).toFixed(2)} ms` : '—');
const refusals = (p) =>
  p.failed === 0
    ? '0'
    : `${p.failed} (${[...Object.entries(p.codes).filter(([c]) => !c.startsWith('2')), ...Object.entries(p.errors)]
        .map(([c, n]) => `${c}: ${n}`)
        .join(', ')})`;

/** The best row of the throughput runs for one system: { value, mode }. */
function bestOf(throughput, name) {
  const row = throughput.reduce((a, b) => (b[name] > a[name] ? b : a));
  return { value: row[name], mode: row.mode };
}

/** What the memory rows say about the bound: the cost of one message, and the peak against the limit. */
function memoryNote(memory, factor) {
  const lines = [];
  const one = memory.find((m) => m.concurrency === 1 && m.ok === 1);
  if (one) {
    const cost = (one.hwmKb - one.idleKb) * 1024;
    lines.push(
      `One ${(one.messageBytes / 1e6).toFixed(1)} MB message alone raised serve's RSS by ${mb(cost / 1024)}, ` +
        `${(cost / one.messageBytes).toFixed(1)}x its size` +
        (factor ? ` (the budget reserves ${factor}x: the message and ${factor - 1}x it for the work).` : '.'),
    );
  }
  for (const m of memory.filter((row) => row.concurrency > 1)) {
    const above = (m.hwmKb - m.idleKb) * 1024;
    lines.push(
      `${m.concurrency} at ${(m.limit / 2 ** 20).toFixed(0)} MiB: peak ${mb(above / 1024)} above idle, ` +
        `${(above / m.limit).toFixed(2)}x the limit, ${m.ok} accepted at once.`,
    );
  }
  return lines.length === 0 ? '' : `\n${lines.map((line) => `- ${line}`).join('\n')}\n`;
}

function formatProfile(profile) {
  const modules = table(
    ['Module', 'Self time', 'Share', "Module (Node's own code charged to its caller)", 'Time', 'Share'],
    profile.modules.map((m, i) => {
      const c = profile.charged[i];
      return [
        m.name,
        ms(m.ms),
        `${m.percent.toFixed(1)}%`,
        c?.name ?? '',
        c ? ms(c.ms) : '',
        c ? `${c.percent.toFixed(1)}%` : '',
      ];
    }),
  );
  const functions = table(
    ['Function', 'Where', 'Self time', 'Share'],
    profile.functions.map((f) => [
      `\`${f.name}\``,
      f.where ? `${f.where}:${f.line}` : '',
      ms(f.ms),
      `${f.percent.toFixed(1)}%`,
    ]),
  );
  const why =
    profile.kind === 'throughput'
      ? 'at the peak of the wiring with the lowest one: what each message costs'
      : 'in the open loop at half the peak, in the wiring whose worst round had the worst p99 (profiled when a ' +
        'round misses the target): what runs while answers wait';
  const counted = profile.windowed
    ? 'the measured window only (not start-up or warm-up)'
    : 'the whole run, start-up and warm-up included (the clocks did not line up)';
  return `
### Where serve's time goes: ${profile.kind} profile

\`node --cpu-prof\` on serve ${why}.
- Run: ${profile.protocol.toUpperCase()} wiring, reused connections, ${profile.how}; ${perSecond(profile.perSecond)},
  p99 ${latency(profile.p99)} under the profiler; ${profile.messages} messages.
- Counted: ${counted}; main from dist/cli.js rather than the bundle, so that file names tell the packages apart.
- Main thread: busy ${ms(profile.busyMs)}, idle ${ms(profile.idleMs)}; ${perMsg(profile.busyMs, profile.messages)}
  per message.

By module, as a share of the busy time: self time on the left; on the right, the time in Node's own code (node:*
modules, V8 builtins, C++ bindings) charged to the package or pgpipe module that called it, which says who asked for
the work:

${modules}

Top functions by self time:

${functions}
`;
}

/** The `pgpipe serve` section (bench/serve.js's results; the throughput rows of the same run for the ratios). */
export function formatServe(serve, throughput) {
  const { wirings, memory, profiles } = serve;
  const ref = throughput.length > 0 ? bestOf(throughput, 'reference') : null;
  const filter = throughput.length > 0 ? bestOf(throughput, 'pgpipe') : null;
  const cols = wirings.map((w) => (w.protocol === 'lmtp' ? 'LMTP wiring (→ LMTP sink)' : 'SMTP wiring (→ SMTP sink)'));
  const row = (label, f) => [label, ...wirings.map(f)];
  const target = (ok) => (ok ? 'met' : '**missed**');
  const headline = table(
    ['', ...cols],
    [
      row(
        'peak, reused connections, at most as many clients as Postfix opens (headline)',
        (w) => `**${perSecond(w.peak.perSecond)}** (${w.peak.concurrency} clients)`,
      ),
      row(
        '… with a new connection per message',
        (w) => `${perSecond(w.peakNew.perSecond)} (${w.peakNew.concurrency} clients)`,
      ),
      row('… best point of the sweep, any number of clients', (w) => {
        const p = w.peakAny;
        return `${perSecond(p.perSecond)} (${p.concurrency} clients, ${p.reuse ? 'reused' : 'new'})`;
      }),
      ...(ref === null
        ? []
        : [
            row(`÷ gpgit wrapper at its best (${perSecond(ref.value)}, ${ref.mode}); target ≥ 40x`, (w) => {
              const r = w.peak.perSecond / ref.value;
              return `**${r.toFixed(r >= 10 ? 0 : 2)}x** (${target(r >= 40)})`;
            }),
            row(`÷ pgpipe filter at its best (${perSecond(filter.value)}, ${filter.mode})`, (w) => {
              const r = w.peak.perSecond / filter.value;
              return `${r.toFixed(r >= 10 ? 0 : 2)}x`;
            }),
          ]),
      row(
        'open loop at half the peak rate',
        (w) => `${w.half.rate} msg/s offered, ${perSecond(w.half.perSecond)} done`,
      ),
      row('… p50 / p99, final dot → last reply; target p99 < 50 ms', (w) => {
        const ok = w.half.p99 !== null && w.half.p99 < 50;
        return `${latency(w.half.p50)} / **${latency(w.half.p99)}** (${target(ok)})`;
      }),
      row('… p99 from arrival (incl. waiting for a connection)', (w) => latency(w.half.fullP99)),
      row('… p99 of each round; the CPU other processes took meanwhile', (w) =>
        w.half.rounds.map((r) => `${latency(r.p99)} (${percent(r.othersBusy)})`).join(', '),
      ),
      row('… not accepted', (w) => refusals(w.half)),
      row(
        'closed loop nearest half the peak: clients, msg/s, p99',
        (w) => `${w.nearHalf.concurrency}, ${perSecond(w.nearHalf.perSecond)}, ${latency(w.nearHalf.p99)}`,
      ),
      row('CPU per message at the peak: serve / sink / load generator', (w) =>
        [w.peak.cpuMs.serve, w.peak.cpuMs.sink, w.peak.loadCpuMs].map((v) => perMsg(v, w.peak.ok)).join(' / '),
      ),
      row('serve peak RSS over the whole sweep (VmHWM)', (w) => mb(w.hwmKb)),
      row('sink outputs decrypted and compared', (w) => `${w.checked} of ${w.checked} correct`),
    ],
    cols.length + 1,
  );
  const sweep = table(
    [
      'Wiring',
      'Connections',
      'Clients',
      'Throughput',
      'p50',
      'p99',
      'serve CPU/msg',
      'sink CPU/msg',
      'Others',
      'Not accepted',
    ],
    wirings.flatMap((w) =>
      w.sweep.map((p) => [
        w.protocol.toUpperCase(),
        p.reuse ? 'reused (RSET)' : 'new per message',
        String(p.concurrency),
        perSecond(p.perSecond),
        latency(p.p50),
        latency(p.p99),
        perMsg(p.cpuMs.serve, p.ok + p.failed),
        perMsg(p.cpuMs.sink, p.ok + p.failed),
        percent(p.othersBusy),
        refusals(p),
      ]),
    ),
  );
  const memoryTable = table(
    [
      'serve_memory_limit',
      'Messages at once',
      'Accepted',
      '452 4.3.1: at MAIL FROM / after the dot',
      'Other',
      'RSS idle',
      'Peak RSS (VmHWM)',
      'Time',
    ],
    memory.map((m) => [
      `${(m.limit / 2 ** 20).toFixed(0)} MiB`,
      `${m.concurrency} x 20 MB`,
      String(m.ok),
      `${m.deferred}: ${m.beforeData} / ${m.deferred - m.beforeData}`,
      m.other === 0 ? '0' : refusals({ ...m, failed: m.other }),
      mb(m.idleKb),
      `**${mb(m.hwmKb)}**`,
      ms(m.elapsedMs),
    ]),
  );
  const profileSection = profiles.map(formatProfile).join('');
  return `## \`pgpipe serve\` (resident service; 10 KB message, Curve25519 key, no spam check)

- **Wirings**: \`pgpipe serve\` listens where Postfix would connect (LMTP: a unix socket; SMTP: 127.0.0.1) and
  hands each message to bench/lmtp-sink.js (LMTP: Dovecot's stand-in, on a unix socket; SMTP, \`--smtp\`: the
  re-injection smtpd's, on 127.0.0.1), which answers 250 and keeps a sample that is decrypted and compared.
- **Load**: bench/serve-load.js, a separate Node process with a small pipelined client that speaks as Postfix's
  lmtp/smtp clients do (MAIL, RCPT and DATA pipelined; SIZE= and BODY=8BITMIME when offered); its CPU is shown.
  Closed loop: each of N clients sends its next message when the last one was answered, for
  ${ms(serve.timing.durationMs)} after ${ms(serve.timing.warmupMs)} not counted (and serve warmed up first).
  Latency runs from the write of the final dot to the last reply. As pgpipe's setup wires Postfix, it opens at most
  20 connections to serve in the LMTP wiring (default_destination_concurrency_limit) and 10 in the SMTP one (the
  pgpipe-smtp transport's process limit), and sends XFORWARD (the queue id for serve's log), as the generator does.
- **The headline uses reused connections**: Postfix keeps its connections to a busy next hop in its connection
  cache (lmtp/smtp_connection_cache_on_demand) and sends RSET before it reuses one, as the generator does; under
  load that is how Postfix talks to serve. A new connection per message (Postfix when idle) is shown too.
- **p99 at half the load**: open-loop runs, Poisson arrivals at half the headline peak rate, rounds of
  ${ms(serve.openMs)} (the round with the median p99 is shown) on reused connections, at most as many as Postfix opens (20 LMTP, 10 SMTP), so a slow answer
  shows in p99 instead of slowing the arrivals.
- **Comparison**: the gpgit wrapper and \`pgpipe filter\` at the best of their throughput runs above (same run, same
  machine).
- **Machine**: serve, the sink and the generator share the 2 cores; the 1-minute load average was
  ${serve.loadavg[0].toFixed(1)} when this section started and ${serve.loadavg[1].toFixed(1)} when it ended (what
  else ran on the machine took its share too; "Others" below is the share of both cores that processes other than
  serve, the sink and the generator took during each point). serve runs JavaScript on one thread: its CPU per
  message bounds it.

${headline}

All points:

${sweep}

**Memory**: 20 MB messages (the 20 MB workload), all at once on one connection each, SIZE= declared as Postfix
does, through the LMTP wiring with message_size_limit raised to 50 MB. A message that would take serve past
serve_memory_limit is answered 452 4.3.1 (Postfix keeps it queued and retries). RSS is serve's own, a fresh
process for each row: /proc/PID/status VmRSS before the load, VmHWM after it.

${memoryTable}
${memoryNote(memory, serve.budgetFactor)}
${profileSection}`;
}
