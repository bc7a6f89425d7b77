// The fuzz engine shared by `npm run fuzz` (fuzz-main.ts) and the quick slice in `npm test` (fuzz.test.ts):
// generates cases, runs most in-process and a slice through the real CLI, judges each, and counts outcomes.
import type { HeaderProtectionOptions } from '../../src/message/types.js';
import { handoffOf, readRecords, recordDir, RECORDING_SENDMAIL } from '../helpers/recording-sendmail.js';
import { runCli as spawnCli } from '../helpers/run-cli.js';
import { startFuzzStore } from './fuzz-store.js';
import { generateCase, loadCorpus, type FuzzCase } from './generate.js';
import { inProcessHarness, type InjectedFault, type SpamMode } from '../helpers/in-process.js';
import { judge, oracleOptions, type OracleRecipient, type Verdict } from '../helpers/oracle.js';
import { caseSeed, createRng } from './prng.js';

export interface FuzzOptions {
  readonly seed: number;
  /** Cases driven in-process (indices 0..n-1). */
  readonly inProcessCases: number;
  /** Cases through the spawned CLI (the indices after the in-process ones). */
  readonly cliCases: number;
  /** Run only this case index (both modes decide by its index). */
  readonly only?: number;
  readonly deadlineMs: number;
  readonly concurrency: number;
  readonly log: (line: string) => void;
}

export interface CaseFailure {
  readonly mode: 'in-process' | 'cli';
  readonly seed: number;
  readonly index: number;
  readonly category: string;
  readonly steps: readonly string[];
  readonly bytes: number;
  readonly reason: string;
}

export interface FuzzReport {
  readonly seed: number;
  readonly total: number;
  /** outcome label → count, per mode. */
  readonly outcomes: Record<'in-process' | 'cli', Record<string, number>>;
  /** category → outcome label → count (both modes). */
  readonly byCategory: Record<string, Record<string, number>>;
  readonly failures: CaseFailure[];
  readonly slowestMs: { index: number; category: string; ms: number; mode: string };
  readonly elapsedMs: number;
  /** Outcome label per case index (for comparing runs). */
  readonly labels: Record<number, string>;
}

const SENDERS = ['sender@example.org', '', 'bounce+tag@lists.example.org'];

interface Variant {
  readonly sender: string;
  readonly hp: HeaderProtectionOptions;
  /** One case in ten gets a dependency fault that must end in a clean 75 (or 0 when the store is not needed). */
  readonly fault: InjectedFault;
  /** In-process: three cases in ten run the spam check against an in-process spamc. */
  readonly spam: SpamMode;
}

export function variantFor(seed: number, index: number): Variant {
  const rng = createRng(caseSeed(seed, index) ^ 0x5bd1e995);
  const sender = rng.pick(SENDERS);
  const roll = rng.int(10);
  const hp =
    roll === 0
      ? { enabled: false, subjectPlaceholder: '[...]' }
      : roll === 1
        ? { enabled: true, subjectPlaceholder: null }
        : { enabled: true, subjectPlaceholder: '[...]' };
  const faultRoll = rng.int(30);
  const fault: InjectedFault =
    faultRoll === 0 ? 'sendmail-75' : faultRoll === 1 ? 'db-down' : faultRoll === 2 ? 'deadline-passed' : 'none';
  const spamRoll = rng.int(20);
  const spam: SpamMode =
    spamRoll < 3 ? 'scan' : spamRoll === 3 ? 'down' : spamRoll === 4 ? 'garbage' : spamRoll === 5 ? 'too-big' : 'off';
  return { sender, hp, fault, spam };
}

const hpFlags = (hp: HeaderProtectionOptions): string[] =>
  !hp.enabled ? ['--no-protect-headers'] : hp.subjectPlaceholder === null ? ['--keep-subject'] : [];

/** The command that replays one case in the same mode (in-process below `inProcessCases`, CLI from there on). */
export const reproduce = (seed: number, index: number, inProcessCases: number): string =>
  `npm run fuzz -- --seed ${seed} --cases ${inProcessCases} --case ${index}`;

/** Runs `tasks` with at most `limit` in flight, in index order. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const corpus = loadCorpus();
  const store = await startFuzzStore();
  const harness = inProcessHarness(store.pg.url, options.deadlineMs);
  const outcomes: FuzzReport['outcomes'] = { 'in-process': {}, cli: {} };
  const byCategory: Record<string, Record<string, number>> = {};
  const failures: CaseFailure[] = [];
  let slowest = { index: -1, category: '', ms: 0, mode: '' };
  let done = 0;
  const labels: Record<number, string> = {};
  const total = options.only !== undefined ? 1 : options.inProcessCases + options.cliCases;

  const record = (
    mode: 'in-process' | 'cli',
    c: FuzzCase,
    verdict: Verdict,
    ms: number,
    fault: InjectedFault = 'none',
  ) => {
    const label = verdict.ok ? verdict.outcome + (fault === 'none' ? '' : ` (${fault})`) : 'FAILURE';
    labels[c.index] = label;
    outcomes[mode][label] = (outcomes[mode][label] ?? 0) + 1;
    const cat = (byCategory[c.category] ??= {});
    cat[label] = (cat[label] ?? 0) + 1;
    if (ms > slowest.ms) slowest = { index: c.index, category: c.category, ms, mode };
    if (!verdict.ok) {
      const f: CaseFailure = {
        mode,
        seed: c.runSeed,
        index: c.index,
        category: c.category,
        steps: c.steps,
        bytes: c.input.length,
        reason: verdict.reason,
      };
      failures.push(f);
      options.log(
        `FAIL ${mode} seed=${f.seed} case=${f.index} [${f.category}: ${f.steps.join(' > ')}]` +
          `${fault === 'none' ? '' : ` fault=${fault}`} ` +
          `${f.bytes} bytes: ${f.reason}\n  reproduce: ${reproduce(f.seed, f.index, options.inProcessCases)}`,
      );
    }
    done += 1;
    if (done % 1000 === 0)
      options.log(`… ${done}/${total} cases, ${failures.length} failures, ${Date.now() - started} ms`);
  };

  const recipientsOf = (c: FuzzCase): OracleRecipient[] => c.recipients.map((i) => store.pool[i] as OracleRecipient);

  const runInProcess = async (index: number) => {
    const c = generateCase(options.seed, index, corpus, store.pool.length);
    const v = variantFor(options.seed, index);
    const recipients = recipientsOf(c);
    let verdict: Verdict;
    let ms = 0;
    try {
      const r = await harness.run(
        c.input,
        v.sender,
        recipients.map((x) => x.address),
        v.hp,
        v.fault,
        v.spam,
      );
      ms = r.ms;
      verdict = await judge(
        {
          input: c.input,
          sender: v.sender,
          recipients,
          exitCode: r.exitCode,
          handoffs: r.handoffs,
          diagnostics: r.diagnostics,
        },
        oracleOptions(v.hp),
      );
      if (verdict.ok && verdict.outcome === 'exit75-deferred' && v.fault === 'none') {
        options.log(`NOTE in-process case ${index} deferred with no injected fault: ${r.diagnostics.split('\n')[0]}`);
      }
    } catch (error) {
      verdict = {
        ok: false,
        reason: `harness/runFilter threw: ${(error as Error).stack?.split('\n').slice(0, 3).join(' | ')}`,
      };
    }
    record('in-process', c, verdict, ms, v.fault);
  };

  const runCli = async (index: number) => {
    const c = generateCase(options.seed, index, corpus, store.pool.length);
    const v = variantFor(options.seed, index);
    const recipients = recipientsOf(c);
    const rec = recordDir();
    let verdict: Verdict;
    let ms = 0;
    try {
      // The same injected faults as in-process, the CLI way: a refusing database, a passed deadline, sendmail exit 75.
      const db = v.fault === 'db-down' ? 'postgresql://postgres@127.0.0.1:1/mailstore_db' : store.pg.url;
      const deadline = v.fault === 'deadline-passed' ? '1' : String(options.deadlineMs);
      const env: Record<string, string> =
        v.fault === 'sendmail-75'
          ? { RECORD_DIR: rec.dir, RECORD_MODE: 'exit', RECORD_FAIL_CALL: '1', RECORD_EXIT: '75' }
          : { RECORD_DIR: rec.dir };
      const run = await spawnCli(
        [
          'filter',
          '--db',
          db,
          '--sendmail',
          RECORDING_SENDMAIL,
          '--no-spam-check',
          '--deadline',
          deadline,
          ...hpFlags(v.hp),
          '-f',
          v.sender,
          '--',
          ...recipients.map((r) => r.address),
        ],
        { input: c.input, env, pipe: true, timeoutMs: options.deadlineMs + 10_000 },
      );
      ms = run.ms;
      const handoffs = readRecords(rec.dir).map(handoffOf);
      const argvProblem = handoffs.find((h) => h.argvProblem !== null)?.argvProblem ?? null;
      const exitCode = run.timedOut ? 'hang' : (run.code ?? -1);
      verdict =
        argvProblem !== null
          ? { ok: false, reason: argvProblem }
          : run.signal !== null && !run.timedOut
            ? { ok: false, reason: `pgpipe killed by ${run.signal}` }
            : await judge(
                { input: c.input, sender: v.sender, recipients, exitCode, handoffs, diagnostics: run.output },
                oracleOptions(v.hp),
              );
      if (verdict.ok && run.output.length > 4095) verdict = { ok: false, reason: 'more output than pipe(8) captures' };
      if (verdict.ok && verdict.outcome === 'exit75-deferred' && v.fault === 'none') {
        options.log(`NOTE cli case ${index} deferred with no injected fault: ${run.output.trim().slice(0, 200)}`);
      }
    } catch (error) {
      verdict = { ok: false, reason: `CLI harness threw: ${(error as Error).message}` };
    } finally {
      rec.cleanup();
    }
    record('cli', c, verdict, ms, v.fault);
  };

  try {
    const inIdx: number[] = [];
    const cliIdx: number[] = [];
    if (options.only !== undefined) {
      (options.only < options.inProcessCases ? inIdx : cliIdx).push(options.only);
    } else {
      for (let i = 0; i < options.inProcessCases; i += 1) inIdx.push(i);
      for (let i = 0; i < options.cliCases; i += 1) cliIdx.push(options.inProcessCases + i);
    }
    await pool(inIdx, options.concurrency, runInProcess);
    await pool(cliIdx, 2, runCli);
  } finally {
    await store.pg.stop();
  }
  return {
    seed: options.seed,
    total,
    outcomes,
    byCategory,
    failures,
    slowestMs: slowest,
    elapsedMs: Date.now() - started,
    labels,
  };
}

/** Human summary: counts per outcome per mode, and per category. */
export function formatReport(r: FuzzReport): string {
  const lines = [
    `fuzz seed=${r.seed}: ${r.total} cases in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.failures.length} failures`,
  ];
  for (const mode of ['in-process', 'cli'] as const) {
    const counts = Object.entries(r.outcomes[mode])
      .sort()
      .map(([k, n]) => `${k}=${n}`)
      .join(' ');
    if (counts !== '') lines.push(`  ${mode}: ${counts}`);
  }
  lines.push('  by category:');
  for (const [cat, counts] of Object.entries(r.byCategory).sort()) {
    lines.push(
      `    ${cat}: ${Object.entries(counts)
        .sort()
        .map(([k, n]) => `${k}=${n}`)
        .join(' ')}`,
    );
  }
  lines.push(
    `  slowest: case ${r.slowestMs.index} (${r.slowestMs.category}, ${r.slowestMs.mode}) ${r.slowestMs.ms} ms`,
  );
  return lines.join('\n');
}
