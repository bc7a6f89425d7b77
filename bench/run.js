#!/usr/bin/env node
// `npm run bench`: pgpipe against gpgit's PGP/MIME path (and plain gpg as a floor), side by side and alternating,
// on synthetic messages, and pgpipe filter/deliver in their Postfix pipe(8) modes; checks every pgpipe output
// decrypts; prints the tables and writes bench/RESULTS.md.
// Then `pgpipe serve` as a resident service in both wirings (bench/serve.js), in the same run.
// Options: --quick (smoke run, ~1 min on an idle 2-core machine; writes no file unless --out), --iterations N,
//          --big-iterations N, --messages N, --only NAME[,NAME] (workloads text-10k, html-200k, attach-20m, and the
//          sections throughput, serve: `--only serve` runs the serve section alone; any --only writes no file unless
//          --out), --no-throughput, --no-serve, --profile (profile serve even when every target is met), --out FILE,
//          --no-write, --keep (keep the temp dir), --pgpipe "CMD ARGS" (measure another pgpipe entry, e.g. a
//          snapshot build; it gets the same arguments as bin/pgpipe; words are split on spaces).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { freezeBuild } from './freeze-build.js';
import { createKeyrings } from './keyring.js';
import { median, runAsync, runTimed, GNU_TIME } from './measure.js';
import { startKeyDatabase } from './postgres.js';
import { formatResults, machineInfo } from './report.js';
import { measureServe } from './serve.js';
import { checkEncrypted } from './verify.js';
import { WORKLOADS } from './workloads.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bench = join(root, 'bench');

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    iterations: { type: 'string' },
    'big-iterations': { type: 'string' },
    messages: { type: 'string' },
    only: { type: 'string' },
    'no-throughput': { type: 'boolean', default: false },
    'no-serve': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    pgpipe: { type: 'string' },
  },
});

const iterations = Number(opts.iterations ?? (opts.quick ? 3 : 11));
const bigIterations = Number(opts['big-iterations'] ?? (opts.quick ? 1 : 5));
const messages = Number(opts.messages ?? (opts.quick ? 20 : 100));
const only = opts.only ? opts.only.split(',') : null;
const SECTIONS = ['throughput', 'serve'];
const onlySections = only?.filter((name) => SECTIONS.includes(name)) ?? [];
// --only with workload names alone keeps the throughput section (as before); naming a section runs just those.
const runThroughput = !opts['no-throughput'] && (onlySections.length === 0 || onlySections.includes('throughput'));
const runServe = !opts['no-serve'] && (only === null || onlySections.includes('serve'));
// RESULTS.md (quoted by the README) only ever holds a full run; a --quick or --only run writes nothing unless --out.
const outFile = opts.out ?? (opts.quick || only ? null : join(bench, 'RESULTS.md'));

class BenchFailure extends Error {}

function fail(message) {
  throw new BenchFailure(message);
}

if (!existsSync(join(root, 'dist/cli.js')) && !opts.pgpipe) {
  console.error('bench: dist/cli.js is missing: run `npm run build` first');
  process.exit(1);
}
if (!existsSync(GNU_TIME)) {
  console.error(`bench: ${GNU_TIME} is missing: install GNU time (Debian package "time")`);
  process.exit(1);
}

// Postfix's pipe(8) hands its command a minimal environment; so does the bench, for every system alike.
// (NOTE: this also keeps out NODE_EXTRA_CA_CERTS / NODE_OPTIONS from the caller's shell, which can cost Node
// tens of milliseconds per start and would not be there under Postfix.)
const dir = mkdtempSync(join(tmpdir(), 'pgpipe-bench-'));
// The build under test is copied first: a concurrent rebuild must not switch pgpipe's start path mid-run.
const frozen = opts.pgpipe ? null : await freezeBuild(root, dir);
const pgpipeCommand = frozen ? [frozen.bin] : opts.pgpipe.split(' ').filter(Boolean);
const startPath = frozen ? frozen.start : `given by --pgpipe`;
const baseEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: dir, TZ: 'UTC' };
const SENDER = 'alice@sender.example';

let db = null;
let gnupgHomes = [];
const sinks = [];
async function cleanUp() {
  for (const sink of sinks.splice(0)) sink.stop();
  if (db) await db.stop().catch(() => undefined);
  db = null;
  // gpg starts a gpg-agent per home (key generation, decryption); stop ours before removing the homes.
  for (const home of gnupgHomes) spawnSync('gpgconf', ['--homedir', home, '--kill', 'all'], { stdio: 'ignore' });
  gnupgHomes = [];
  if (!opts.keep) rmSync(dir, { recursive: true, force: true });
}
process.once('SIGINT', () => {
  cleanUp().finally(() => process.exit(130));
});

function log(text) {
  process.stderr.write(`${text}\n`);
}

async function main() {
  const started = Date.now();
  log(`bench: temp dir ${dir}`);
  log(`bench: pgpipe starts from ${startPath}`);
  gnupgHomes = [join(dir, 'gnupg-secret'), join(dir, 'gnupg-public')]; // what createKeyrings makes (agents too)
  const { secretHome, publicHome, keys } = createKeyrings(dir);
  log(`bench: keys ${keys.map((k) => `${k.label} ${k.fingerprint.slice(-16)}`).join(', ')}`);
  db = await startKeyDatabase(root, keys);
  log('bench: PostgreSQL up, keys stored in users');

  const systems = (key) => ({
    pgpipe: { argv: [...pgpipeCommand, 'encrypt', '--to', key.email, '--db', db.url], env: baseEnv },
    reference: { argv: [join(bench, 'gpgit-reference.pl'), key.email], env: { ...baseEnv, GPGIT_KEYDIR: publicHome } },
    floor: {
      argv: [
        'gpg',
        '--homedir',
        publicHome,
        '--batch',
        '--no-tty',
        '--quiet',
        '--always-trust',
        '--armor',
        '--encrypt',
        '-r',
        key.email,
      ],
      env: baseEnv,
    },
  });

  const perMessage = [];
  for (const workload of WORKLOADS) {
    if (onlySections.length > 0 ? !only.includes(workload.name) : only && !only.includes(workload.name)) continue;
    const original = workload.build();
    const input = join(dir, `${workload.name}.eml`);
    writeFileSync(input, original);
    const rounds = workload.name === 'attach-20m' ? bigIterations : iterations;
    for (const key of keys) {
      const cmds = systems(key);
      const names = Object.keys(cmds);
      const samples = Object.fromEntries(names.map((name) => [name, []]));
      // One untimed warm-up each (page cache, PostgreSQL's first backend), then timed rounds in rotating order.
      for (let round = -1; round < rounds; round += 1) {
        for (let k = 0; k < names.length; k += 1) {
          const name = names[(Math.max(round, 0) + k) % names.length];
          const output = join(dir, `out-${name}`);
          const result = runTimed({ ...cmds[name], input, output, rssFile: join(dir, 'rss') });
          if (result.status !== 0)
            fail(
              `${name} failed on ${workload.name}/${key.name} (exit ${result.status}): ${result.stderr.slice(0, 300)}`,
            );
          if (name === 'pgpipe' || (name === 'reference' && round === -1)) {
            try {
              checkEncrypted({ outputPath: output, original, secretHome, exact: name === 'pgpipe' });
            } catch (error) {
              fail(`${name} output for ${workload.name}/${key.name} is wrong: ${error.message}`);
            }
          }
          if (round >= 0) samples[name].push(result);
        }
      }
      const summary = (name) => ({
        ms: median(samples[name].map((s) => s.ms)),
        cpuMs: median(samples[name].map((s) => s.cpuMs)),
        rssKb: Math.max(...samples[name].map((s) => s.rssKb)),
      });
      const row = {
        workload: workload.label,
        key: key.label,
        pgpipe: summary('pgpipe'),
        reference: summary('reference'),
        floor: summary('floor'),
      };
      perMessage.push(row);
      log(
        `bench: ${workload.name}/${key.name}: pgpipe ${row.pgpipe.ms.toFixed(0)} ms, ` +
          `ref ${row.reference.ms.toFixed(0)} ms, floor ${row.floor.ms.toFixed(0)} ms; ` +
          `RSS ${row.pgpipe.rssKb} / ${row.reference.rssKb} / ${row.floor.rssKb} KB`,
      );
    }
  }

  const { rows: throughput, pipeModes } = runThroughput
    ? await measureThroughput({ keys, secretHome, publicHome })
    : { rows: [], pipeModes: [] };

  const serve = runServe
    ? await measureServe({
        root,
        bench,
        dir,
        env: baseEnv,
        dbUrl: db.url,
        key: keys[0],
        sender: SENDER,
        secretHome,
        text10k: WORKLOADS[0].build(),
        build20m: () => WORKLOADS.find((w) => w.name === 'attach-20m').build(),
        serveArgv,
        startSink,
        track: (stop) => sinks.push({ stop }),
        log,
        fail,
        quick: opts.quick,
        profile: opts.profile ? 'always' : 'auto',
        budgetFactor: await budgetFactor(),
        referenceBest: () => (throughput.length > 0 ? Math.max(...throughput.map((r) => r.reference)) : null),
      })
    : null;

  const machine = machineInfo(root);
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const settings =
    `${iterations} timed runs per small workload, ${bigIterations} for 20 MB, ${messages} messages per throughput run` +
    (opts.pgpipe ? `, pgpipe entry \`${opts.pgpipe}\`` : `; pgpipe starts from ${startPath}`);
  const text = formatResults({ machine, command, settings, perMessage, throughput, pipeModes, serve });
  process.stdout.write(`\n${text}`);
  if (!opts['no-write'] && outFile) {
    writeFileSync(outFile, text);
    log(`bench: written to ${outFile}`);
  }
  log(`bench: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/**
 * Starts bench/lmtp-sink.js (a separate process: runTimed blocks this event loop) and waits until it listens.
 * `flags`: the sink's own (--smtp, --samples DIR, --every N). Resolves with the address it bound and its pid.
 */
async function startSink(address, capture, flags = []) {
  const args = [join(bench, 'lmtp-sink.js'), ...flags, address, ...(capture ? [capture] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const bound = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new BenchFailure(`lmtp-sink exited ${code}`)));
    child.stdout.once('data', (line) => resolve(/^ready (\S+)/.exec(line.toString())?.[1]));
  });
  child.removeAllListeners('exit');
  const sink = { address: bound, pid: child.pid, stop: () => child.kill('SIGTERM') };
  sinks.push(sink);
  return sink;
}

/** Bytes serve's memory budget reserves per message byte for one recipient (1 + workBytes), from the build under test. */
async function budgetFactor() {
  const dist = frozen ? join(dirname(dirname(frozen.bin)), 'dist') : join(root, 'dist');
  try {
    const { workBytes } = await import(pathToFileURL(join(dist, 'serve', 'run-serve.js')).href);
    return 1 + workBytes(1_000_000, 1) / 1_000_000;
  } catch {
    return null; // another build's layout: the report then leaves the comparison out
  }
}

/**
 * The argv that runs pgpipe (the frozen build) with node flags (--cpu-prof) in front, or null when --pgpipe named
 * a command that cannot take them. With `unbundled`, main comes from dist/cli.js rather than the bundle: the same
 * code once warm, but a profile can then tell the npm packages and pgpipe's own modules apart by file.
 */
function serveArgv(nodeFlags, { unbundled = false } = {}) {
  if (!frozen) return nodeFlags.length === 0 ? pgpipeCommand : null;
  if (!unbundled) return [process.execPath, ...nodeFlags, frozen.bin];
  const dist = pathToFileURL(join(dirname(dirname(frozen.bin)), 'dist')).href;
  const script =
    `const argv = process.argv.slice(1); const { modeFor } = await import('${dist}/modes.js');` +
    ` const { main } = await import('${dist}/cli.js'); await main(argv, modeFor(argv));`;
  return [process.execPath, ...nodeFlags, '--input-type=module', '-e', script];
}

async function measureThroughput({ keys, secretHome, publicHome }) {
  const workload = WORKLOADS[0];
  const key = keys[0];
  const original = workload.build();
  const input = join(dir, 'throughput.eml');
  writeFileSync(input, original);
  const discard = join(bench, 'sendmail-discard.sh');
  const envelope = ['-oi', '-f', SENDER, key.email]; // the tutorial's master.cf argv: -oi -f ${sender} ${recipient}
  const filterArgv = (sendmail) => [
    ...pgpipeCommand,
    'filter',
    '--db',
    db.url,
    '--sendmail',
    sendmail,
    '--no-spam-check',
    ...envelope,
  ];
  // deliver as `pgpipe setup postfix --mode deliver` wires it, handing over to an LMTP sink instead of Dovecot.
  const deliverArgv = (socket) => [
    ...pgpipeCommand,
    'deliver',
    '--db',
    db.url,
    '--lmtp',
    `unix:${socket}`,
    '--no-spam-check',
    '-f',
    SENDER,
    '--',
    key.email,
  ];
  const wrapperArgv = [join(bench, 'gpgit-wrapper.sh'), ...envelope];
  const refEnv = (sendmail) => ({ ...baseEnv, GPGIT_KEYDIR: publicHome, SENDMAIL: sendmail });
  const sinkSocket = join(dir, 'lmtp-sink');
  const captureSocket = join(dir, 'lmtp-capture');

  // Correctness first: what each path hands to sendmail (or LMTP) must decrypt.
  const capture = join(dir, 'captured.eml');
  const sendmailCapture = join(bench, 'sendmail-capture.sh');
  await startSink(captureSocket, capture);
  await startSink(sinkSocket, null);
  for (const [name, argv, env, exact] of [
    ['pgpipe filter', filterArgv(sendmailCapture), { ...baseEnv, BENCH_CAPTURE: capture }, true],
    ['pgpipe deliver', deliverArgv(captureSocket), baseEnv, true],
    ['gpgit wrapper', wrapperArgv, { ...refEnv(sendmailCapture), BENCH_CAPTURE: capture }, false],
  ]) {
    rmSync(capture, { force: true });
    const result = await runAsync({ argv, env, input });
    if (result.status !== 0) fail(`${name} failed (exit ${result.status}): ${result.stderr.slice(0, 300)}`);
    try {
      checkEncrypted({ outputPath: capture, original, secretHome, exact });
    } catch (error) {
      fail(`${name} handed sendmail a wrong message: ${error.message}`);
    }
  }

  const systems = {
    pgpipe: { argv: filterArgv(discard), env: baseEnv },
    deliver: { argv: deliverArgv(sinkSocket), env: baseEnv },
    reference: { argv: wrapperArgv, env: refEnv(discard) },
  };
  const names = Object.keys(systems);

  // Per message, as pipe(8) runs each: one process, wall and CPU time, peak RSS (the sinks are not counted).
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = -1; round < iterations; round += 1) {
    for (let k = 0; k < names.length; k += 1) {
      const name = names[(Math.max(round, 0) + k) % names.length];
      const result = runTimed({ ...systems[name], input, output: join(dir, 'out-pipe'), rssFile: join(dir, 'rss') });
      if (result.status !== 0)
        fail(`${name} (pipe mode) failed (exit ${result.status}): ${result.stderr.slice(0, 300)}`);
      if (round >= 0) samples[name].push(result);
    }
  }
  const pipeModes = names.map((name) => ({
    name,
    ms: median(samples[name].map((s) => s.ms)),
    cpuMs: median(samples[name].map((s) => s.cpuMs)),
    rssKb: Math.max(...samples[name].map((s) => s.rssKb)),
  }));
  log(
    `bench: pipe modes: ` +
      `${pipeModes.map((m) => `${m.name} ${m.ms.toFixed(0)} ms (CPU ${m.cpuMs.toFixed(0)} ms)`).join(', ')}`,
  );

  const rows = [];
  for (const parallel of [1, 2, 4]) {
    const elapsed = { pgpipe: 0, deliver: 0, reference: 0 };
    const block = Math.max(1, Math.min(25, Math.ceil(messages / 4)));
    let done = 0;
    let turn = 0;
    while (done < messages) {
      const count = Math.min(block, messages - done);
      for (const name of names.map((_, k) => names[(turn + k) % names.length])) {
        let next = 0;
        const worker = async () => {
          while (next < count) {
            next += 1;
            const result = await runAsync({ ...systems[name], input });
            if (result.status !== 0)
              fail(`${name} throughput run failed (exit ${result.status}): ${result.stderr.slice(0, 300)}`);
          }
        };
        const start = process.hrtime.bigint();
        await Promise.all(Array.from({ length: parallel }, worker));
        elapsed[name] += Number(process.hrtime.bigint() - start) / 1e9;
      }
      done += count;
      turn += 1;
    }
    const row = {
      mode: parallel === 1 ? 'sequential' : `${parallel} in parallel`,
      messages,
      pgpipe: messages / elapsed.pgpipe,
      deliver: messages / elapsed.deliver,
      reference: messages / elapsed.reference,
    };
    rows.push(row);
    log(
      `bench: throughput ${row.mode}: pgpipe filter ${row.pgpipe.toFixed(1)} msg/s, ` +
        `deliver ${row.deliver.toFixed(1)} msg/s, ref ${row.reference.toFixed(1)} msg/s`,
    );
  }
  return { rows, pipeModes };
}

try {
  await main();
} catch (error) {
  console.error(error instanceof BenchFailure ? `bench: FAILED: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
