// Drives the real filter pipeline in-process for the bulk of the fuzz run: runFilter with the CLI's real ports
// (PostgreSQL key lookup, key inspection, encryption) and a recording sendmail (no spawns, so 10,000 cases fit).
import { loadConfig, type Config } from '../../src/config/load-config.js';
import { temporary } from '../../src/errors.js';
import { exitCodeFor, type Outcome } from '../../src/mail-path/outcome.js';
import type { ChildResult, FilterDeps, Sendmail, Spamc } from '../../src/filter/ports.js';
import { logLine, statusLine } from '../../src/mail-path/report-lines.js';
import { createFilterDeps, policyFrom } from '../../src/filter/create-filter-deps.js';
import { runFilter } from '../../src/filter/run-filter.js';
import type { HeaderProtectionOptions } from '../../src/message/types.js';
import type { Handoff } from './oracle.js';

export function fuzzConfig(databaseUrl: string, hp: HeaderProtectionOptions, spamCheck = false): Config {
  const flags = { databaseUrl, protectHeaders: hp.enabled, keepSubject: hp.subjectPlaceholder === null, spamCheck };
  return loadConfig({ flags, env: {}, configPath: '/dev/null' });
}

const exited = (exitCode: number): ChildResult => ({
  exitCode,
  signal: null,
  stdout: Buffer.alloc(0),
  stderrLine: '',
  failure: null,
});

/** A sendmail port that records what it is handed and accepts it (exit 0), or fails its first call (exit 75). */
export function recordingSendmail(failFirst = false): Sendmail & { handoffs: Handoff[] } {
  const handoffs: Handoff[] = [];
  return {
    handoffs,
    async send(raw, envelope) {
      const accepted = !(failFirst && handoffs.length === 0);
      handoffs.push({
        sender: envelope.sender,
        recipients: [...envelope.recipients],
        data: Buffer.from(raw),
        accepted,
      });
      return exited(accepted ? 0 : 75);
    },
  };
}

/**
 * Dependency faults injected into a share of fuzz cases, so the exit-75 path runs on hostile input too. Only faults
 * that strike before anything is handed on: a later sendmail call failing after an earlier one succeeded is the
 * documented duplicate-on-retry limitation (test/faults/sendmail.test.ts), not something the oracle can accept.
 */
export type InjectedFault = 'none' | 'sendmail-75' | 'db-down' | 'deadline-passed';

/** What the in-process spamc answers: off (policy.spamCheck false), or like spamc -x would. */
export type SpamMode = 'off' | 'scan' | 'down' | 'garbage' | 'too-big';

/**
 * An in-process spamc: 'scan' adds spamd's headers on top (as SpamAssassin's report_safe 0 output carries them),
 * 'down' is exit 69 without output, 'garbage' exit 0 with unrelated output, 'too-big' the input unchanged.
 * A message whose first line is a continuation is returned unchanged: prepending would fold it into our header,
 * an artefact of this stand-in, not of SpamAssassin.
 */
export function fakeSpamc(mode: SpamMode): Spamc {
  return {
    async run(raw) {
      if (mode === 'down') return { ...exited(69), stderrLine: 'connection refused' };
      if (mode === 'garbage') return { ...exited(0), stdout: Buffer.from('hello\n') };
      if (mode === 'too-big' || raw[0] === 0x20 || raw[0] === 0x09) return { ...exited(0), stdout: raw };
      const eol = raw.includes('\r\n') ? '\r\n' : '\n';
      const added =
        [
          'X-Spam-Checker-Version: SpamAssassin 4.0.1 (2024-03-26) on fuzz',
          'X-Spam-Level: ',
          'X-Spam-Status: No, score=-0.1 required=5.0 tests=NONE autolearn=no',
        ].join(eol) + eol;
      return { ...exited(0), stdout: Buffer.concat([Buffer.from(added), raw]) };
    },
  };
}

export interface InProcessRun {
  readonly exitCode: number | 'hang';
  readonly handoffs: Handoff[];
  readonly diagnostics: string;
  readonly outcome: Outcome | null;
  readonly ms: number;
}

export interface InProcessHarness {
  run(
    raw: Buffer,
    sender: string,
    recipients: readonly string[],
    hp: HeaderProtectionOptions,
    fault?: InjectedFault,
    spam?: SpamMode,
  ): Promise<InProcessRun>;
}

/**
 * The CLI's own ports (createFilterDeps: real key lookup on PostgreSQL, real encryption) with the recording sendmail
 * swapped in; spamc is off (policy.spamCheck false) so the fuzz targets parsing, encryption and delivery planning;
 * `fault` swaps in a failing dependency, `spam` an in-process spamc (otherwise the spam check is off).
 */
export function inProcessHarness(databaseUrl: string, deadlineMs: number): InProcessHarness {
  return {
    async run(raw, sender, recipients, hp, fault = 'none', spam = 'off') {
      const config = fuzzConfig(databaseUrl, hp, spam !== 'off');
      const sendmail = recordingSendmail(fault === 'sendmail-75');
      const real = createFilterDeps(config);
      const keys =
        fault !== 'db-down'
          ? real.keys
          : { lookup: async () => Promise.reject(temporary('db.unavailable', 'database unavailable (injected)')) };
      const deps: FilterDeps = { ...real, keys, sendmail, spamc: fakeSpamc(spam) };
      const started = Date.now();
      const signal =
        fault === 'deadline-passed' ? AbortSignal.abort(new Error('deadline')) : AbortSignal.timeout(deadlineMs);
      let timer: NodeJS.Timeout | undefined;
      // A pipeline that ignores its own deadline must show up as a hang, not stall the whole run.
      const hang = new Promise<'hang'>((resolve) => {
        timer = setTimeout(() => resolve('hang'), deadlineMs + 5_000);
      });
      const outcome = await Promise.race([
        runFilter(
          { raw, envelope: { sender, recipients }, policy: policyFrom(config), deadlineAt: started + deadlineMs },
          deps,
          signal,
        ),
        hang,
      ]);
      clearTimeout(timer);
      const ms = Date.now() - started;
      if (outcome === 'hang')
        return { exitCode: 'hang', handoffs: sendmail.handoffs, diagnostics: '', outcome: null, ms };
      const diagnostics = `${statusLine(outcome, ms, true)}\n${logLine(outcome, ms, null)}\n${JSON.stringify(outcome)}`;
      return { exitCode: exitCodeFor(outcome), handoffs: sendmail.handoffs, diagnostics, outcome, ms };
    },
  };
}
