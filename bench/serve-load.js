#!/usr/bin/env node
// Load generator for the bench's `pgpipe serve` section: a separate process (it shares the 2 cores with serve and
// the sink, so it is kept cheap) with a minimal pipelined LMTP/SMTP client of its own on net sockets: the message
// is CRLF'd and dot-stuffed once, every transaction writes prepared buffers, replies are parsed line by line.
// It speaks as Postfix's lmtp(8)/smtp(8) clients do: LHLO/EHLO, then MAIL FROM (SIZE= and BODY=8BITMIME when
// advertised), RCPT TO and DATA pipelined, the message, and one reply per recipient (LMTP) or one (SMTP).
// A reused connection starts each further transaction with RSET, as Postfix checks a cached session.
// Latency is from the write of the final dot to the last reply. Prints one JSON line of results on stdout.
//
// Usage: node bench/serve-load.js '<json>' with
//   { target: 'unix:/p'|'inet:h:p', protocol: 'lmtp'|'smtp', message: FILE, sender, recipients: [..],
//     reuse: bool,                       // keep connections (RSET between) or one connection per message
//     mode: 'closed', concurrency: N,    // N clients, each sends its next message when the last one was answered
//       durationMs, warmupMs             //   ...for warmupMs (not counted), then durationMs (counted)
//       | count: M                       //   ...or exactly M messages in all, all counted (the memory run)
//     mode: 'open', rate: R, durationMs, warmupMs, maxConnections: C,  // arrivals at R/s (Poisson), any
//                                        //   free connection, up to C at once; the rest wait (counted as queueing)
//     watch: { name: PID, .. } }         // CPU time (user + system) of these processes over the counted window
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const config = JSON.parse(process.argv[2] ?? '{}');
const lmtp = config.protocol === 'lmtp';
const recipients = config.recipients;

/** The message as it goes on the wire after the 354: CRLF line ends, dot-stuffed, ending CRLF . CRLF. */
function wireMessage(raw) {
  const crlf = raw.toString('latin1').replace(/\r?\n/g, '\r\n');
  const stuffed = crlf.replace(/^\./gm, '..');
  return Buffer.from(`${stuffed.endsWith('\r\n') ? stuffed : `${stuffed}\r\n`}.\r\n`, 'latin1');
}

const raw = readFileSync(config.message);
const body = wireMessage(raw);
const is8bit = raw.some((byte) => byte > 127) || /^content-transfer-encoding:\s*8bit/im.test(raw.toString('latin1'));
const now = () => Number(process.hrtime.bigint()) / 1e6;
let queueIds = 0;

function openSocket(target) {
  if (target.startsWith('unix:')) return connect({ path: target.slice('unix:'.length) });
  const [, host, port] = /^inet:(.+):(\d+)$/.exec(target);
  return connect({ host, port: Number(port) });
}

/** One client connection: a queue of reply waiters fed by a line parser (multi-line replies end at "ddd "). */
class Session {
  constructor() {
    this.waiters = [];
    this.lines = [];
    this.pending = '';
    this.dead = null;
    this.transactions = 0;
    this.socket = openSocket(config.target);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error('connection closed')));
  }

  onData(chunk) {
    this.pending += chunk.toString('latin1');
    let end;
    while ((end = this.pending.indexOf('\r\n')) !== -1) {
      const line = this.pending.slice(0, end);
      this.pending = this.pending.slice(end + 2);
      this.lines.push(line);
      if (line.length >= 4 && line[3] === '-') continue;
      const reply = { code: Number(line.slice(0, 3)), lines: this.lines };
      this.lines = [];
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(reply);
    }
  }

  fail(error) {
    if (this.dead) return;
    this.dead = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  reply() {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  replies(n) {
    return Promise.all(Array.from({ length: n }, () => this.reply()));
  }

  async open() {
    const [greeting] = await this.replies(1);
    if (greeting.code !== 220) throw new Error(`greeting ${greeting.lines[0]}`);
    this.socket.write(`${lmtp ? 'LHLO' : 'EHLO'} bench.example\r\n`);
    const [hello] = await this.replies(1);
    if (hello.code !== 250) throw new Error(`hello ${hello.lines[0]}`);
    const words = hello.lines.map((line) => line.slice(4).toUpperCase());
    this.size = words.some((w) => w === 'SIZE' || w.startsWith('SIZE '));
    this.eightBit = words.includes('8BITMIME');
    this.xforward = words.some((w) => w.startsWith('XFORWARD'));
    return this;
  }

  /** One transaction; resolves { code, text, latencyMs } (code of the first refusal, else of the last reply). */
  async send() {
    const params = `${this.size ? ` SIZE=${body.length}` : ''}${this.eightBit && is8bit ? ' BODY=8BITMIME' : ''}`;
    const rset = this.transactions > 0 ? 'RSET\r\n' : '';
    // As Postfix with (l)smtp_send_xforward_command=yes, which pgpipe's setup sets in both wirings: the original
    // client, and the queue id (IDENT) for serve's log line.
    const xforward = this.xforward
      ? 'XFORWARD NAME=mail.sender.example ADDR=192.0.2.10 PORT=25 HELO=mail.sender.example PROTO=ESMTP\r\n' +
        `XFORWARD IDENT=${(queueIds += 1).toString(16).toUpperCase().padStart(10, '4')} SOURCE=REMOTE\r\n`
      : '';
    const rcpts = recipients.map((r) => `RCPT TO:<${r}>\r\n`).join('');
    this.transactions += 1;
    this.socket.write(`${rset}${xforward}MAIL FROM:<${config.sender}>${params}\r\n${rcpts}DATA\r\n`);
    const before = (rset ? 1 : 0) + (xforward ? 2 : 0);
    const envelope = (await this.replies(before + 1 + recipients.length + 1)).slice(before);
    const data = envelope.pop();
    const refused = envelope.find((r) => r.code >= 400);
    if (data.code !== 354) {
      const first = refused ?? data;
      return { code: first.code, text: first.lines[0], latencyMs: null, beforeData: true };
    }
    // Only recipients accepted at RCPT TO get a reply after the dot (LMTP).
    const accepted = lmtp ? envelope.slice(1).filter((r) => r.code < 300).length : 1;
    const end = now();
    this.socket.write(body);
    const answers = await this.replies(accepted);
    const latencyMs = now() - end;
    const worst = answers.find((r) => r.code >= 300) ?? answers[answers.length - 1];
    return { code: worst.code, text: worst.lines[0], latencyMs };
  }

  async close() {
    if (this.dead) return;
    this.socket.write('QUIT\r\n');
    await this.replies(1).catch(() => undefined);
    this.socket.destroy();
  }
}

// latencies: final dot → last reply; fullMs: from when the message was due (open loop: its arrival, including any
// wait for a free connection and a new connection's greeting; closed loop: the transaction's start) to its last reply.
const results = { latencies: [], fullMs: [], codes: {}, ok: 0, failed: 0, beforeData: 0, errors: {} };
let counting = false;

function record(outcome, fullMs) {
  if (!counting) return;
  const key = outcome.code ? `${outcome.code} ${(outcome.text.slice(4).match(/^\d\.\d+\.\d+/) ?? [''])[0]}`.trim() : '';
  if (outcome.code >= 200 && outcome.code < 300) {
    results.ok += 1;
    results.latencies.push(outcome.latencyMs);
    results.fullMs.push(fullMs);
  } else {
    results.failed += 1;
    if (outcome.beforeData) results.beforeData += 1; // refused before the message was sent (MAIL FROM SIZE=)
  }
  if (key) results.codes[key] = (results.codes[key] ?? 0) + 1;
}

function recordError(error) {
  if (!counting) return;
  results.failed += 1;
  const key = String(error.message ?? error).slice(0, 80);
  results.errors[key] = (results.errors[key] ?? 0) + 1;
}

/** Runs one transaction on `session` (or a new one); returns the session to keep, or null. */
async function transaction(session) {
  const s = session ?? (await new Session().open());
  const outcome = await s.send();
  if (!config.reuse) {
    await s.close();
    return { outcome, session: null };
  }
  return { outcome, session: s };
}

async function closedLoop() {
  const total = config.count ?? null;
  let started = 0;
  let stop = false;
  const worker = async () => {
    let session = null;
    while (!stop && (total === null || started < total)) {
      started += 1;
      const t = now();
      try {
        const result = await transaction(session);
        session = result.session;
        record(result.outcome, now() - t);
      } catch (error) {
        recordError(error);
        session?.socket.destroy();
        session = null;
      }
    }
    await session?.close();
  };
  if (total !== null) {
    counting = true;
    watchStart();
    const cpu0 = process.cpuUsage();
    const t0 = now();
    await Promise.all(Array.from({ length: config.concurrency }, worker));
    results.cpuMs = cpuMs(process.cpuUsage(cpu0));
    watchEnd();
    return now() - t0;
  }
  const workers = Array.from({ length: config.concurrency }, worker);
  await sleep(config.warmupMs);
  counting = true;
  watchStart();
  const t0 = now();
  const cpu0 = process.cpuUsage();
  await sleep(config.durationMs);
  counting = false;
  results.cpuMs = cpuMs(process.cpuUsage(cpu0));
  watchEnd();
  stop = true;
  const elapsed = now() - t0;
  await Promise.all(workers);
  return elapsed;
}

/** Arrivals at config.rate per second, exponential gaps from a seeded PRNG (the same schedule every run). */
async function openLoop() {
  let seed = 12345;
  const uniform = () => {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return (seed + 0.5) / 2 ** 32;
  };
  const idle = [];
  const waiting = [];
  let open = 0;
  const inFlight = new Set();
  const run = async (session, scheduledAt, counted) => {
    try {
      const s = session ?? (await new Session().open());
      const outcome = await s.send();
      if (counted) record(outcome, now() - scheduledAt);
      if (config.reuse) release(s);
      else {
        await s.close();
        release(null);
      }
    } catch (error) {
      if (counted) recordError(error);
      session?.socket.destroy();
      release(null, true);
    }
  };
  const release = (session, broken = false) => {
    const next = waiting.shift();
    if (next) return start(broken || !config.reuse ? null : session, next);
    if (session && !broken && config.reuse) idle.push(session);
    else open -= 1;
  };
  const start = (session, job) => {
    const p = run(session, job.at, job.counted);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const arrive = (job) => {
    if (idle.length > 0) return start(idle.pop(), job);
    if (open < config.maxConnections) {
      open += 1;
      return start(null, job);
    }
    waiting.push(job);
  };
  const t0 = now();
  const warmEnd = t0 + config.warmupMs;
  const end = warmEnd + config.durationMs;
  let next = t0;
  let cpu0 = null;
  let arrivals = 0;
  while (next < end) {
    const wait = next - now();
    if (wait > 1) await sleep(wait);
    if (!counting && next >= warmEnd) {
      counting = true;
      watchStart();
      cpu0 = process.cpuUsage();
    }
    arrive({ at: next, counted: counting });
    if (counting) arrivals += 1;
    next += (-Math.log(uniform()) * 1000) / config.rate;
  }
  await Promise.all([...inFlight]);
  // Everything that arrived in the counted window is counted, however late it was answered.
  results.cpuMs = cpuMs(process.cpuUsage(cpu0));
  watchEnd();
  results.arrivals = arrivals;
  results.maxOpen = open;
  for (const s of idle.splice(0)) await s.close();
  return config.durationMs;
}

/** utime + stime of a process so far, in ms (/proc/PID/stat, USER_HZ 100: 10 ms resolution). */
function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** All CPUs together so far from /proc/stat, in ms: { busy, total } (idle and iowait are not busy). */
function machineCpuMs() {
  try {
    const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    return { busy: (total - ticks[3] - ticks[4]) * 10, total: total * 10 };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

let watched = null;
let machine0 = null;
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
function watchStart() {
  results.windowUs = [monotonicUs(), null];
  machine0 = machineCpuMs();
  watched = Object.entries(config.watch ?? {}).map(([name, pid]) => [name, pid, processCpuMs(pid)]);
}
function watchEnd() {
  if (results.windowUs) results.windowUs[1] = monotonicUs();
  results.watchCpuMs = Object.fromEntries((watched ?? []).map(([name, pid, ms]) => [name, processCpuMs(pid) - ms]));
  const machine = machineCpuMs();
  // How busy the whole machine was meanwhile (every process, ours too), as a share of all its CPUs.
  if (machine0) {
    const total = machine.total - machine0.total;
    results.machineBusy = (machine.busy - machine0.busy) / total;
    // ...and the share that was neither the watched processes nor this one: what else ran on the machine.
    const ours = Object.values(results.watchCpuMs ?? {}).reduce((a, b) => a + b, 0) + (results.cpuMs ?? 0);
    results.othersBusy = Math.max(0, results.machineBusy - ours / total);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const cpuMs = (usage) => (usage.user + usage.system) / 1000;

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const elapsedMs = config.mode === 'open' ? await openLoop() : await closedLoop();
const latencies = results.latencies.sort((a, b) => a - b);
const full = results.fullMs.sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({
    ok: results.ok,
    messageBytes: body.length,
    failed: results.failed,
    beforeData: results.beforeData,
    codes: results.codes,
    errors: results.errors,
    elapsedMs,
    perSecond: (results.ok / elapsedMs) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? null,
    fullP50: percentile(full, 50),
    fullP99: percentile(full, 99),
    loadCpuMs: results.cpuMs ?? null,
    cpuMs: results.watchCpuMs ?? {},
    machineBusy: results.machineBusy ?? null,
    othersBusy: results.othersBusy ?? null,
    windowUs: results.windowUs ?? null, // the counted window on CLOCK_MONOTONIC (V8's profile clock), in µs
    arrivals: results.arrivals ?? null,
  })}\n`,
);
