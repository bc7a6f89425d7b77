// Shared set-up for the fault tests: a throwaway PostgreSQL with a keyed and an unkeyed user, token-marked messages,
// and one call that runs the real CLI with the recording sendmail and judges the result with the fuzz oracle.
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeKey } from '../helpers/keys.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import {
  handoffOf,
  readRecords,
  recordDir,
  RECORDING_SENDMAIL,
  type RecordedCall,
} from '../helpers/recording-sendmail.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { seedStore } from '../helpers/seed.js';
import { judge, oracleOptions, type Handoff, type OracleRecipient, type Verdict } from '../helpers/oracle.js';

export const ALICE = 'alice@faults.test'; // keyed (curve25519)
export const CAROL = 'carol@faults.test'; // no users row

export interface FaultWorld {
  readonly pg: PgCluster;
  readonly alice: OracleRecipient;
  readonly carol: OracleRecipient;
  close(): Promise<void>;
}

export async function startWorld(): Promise<FaultWorld> {
  const key = await makeKey({ kind: 'curve25519', email: ALICE });
  const pg = await startPostgres();
  await seedStore({ databaseUrl: pg.url }, [{ email: ALICE, pgpkey: key.publicArmored }]);
  const privateKey = await openpgp.readPrivateKey({ armoredKey: key.privateArmored });
  return {
    pg,
    alice: { address: ALICE, privateKey },
    carol: { address: CAROL, privateKey: null },
    close: () => pg.stop(),
  };
}

/**
 * One world for the enclosing suite: started in its before hook, closed in its after hook. The returned object reads
 * through to it, so tests use it as a FaultWorld; hooks registered after this call see it started.
 */
export function worldForSuite(): FaultWorld {
  let started: FaultWorld | undefined;
  const get = (): FaultWorld => started ?? assert.fail('the fault world is used before its before hook ran');
  before(async () => {
    started = await startWorld();
  });
  after(async () => {
    await started?.close();
  });
  return {
    get pg() {
      return get().pg;
    },
    get alice() {
      return get().alice;
    },
    get carol() {
      return get().carol;
    },
    close: async () => {
      await started?.close();
    },
  };
}

/** A message whose Subject and body each carry a unique token (so a leak anywhere can be searched for). */
export function tokenMessage(extraBody = ''): { raw: Buffer; subjectToken: string; bodyToken: string } {
  const id = randomBytes(6).toString('hex');
  const subjectToken = `ZQS${id}n1Z`;
  const bodyToken = `ZQB${id}n1Z`;
  const raw = Buffer.from(
    [
      'From: Sender <sender@example.org>',
      `To: ${ALICE}`,
      `Subject: Board minutes ${subjectToken}`,
      'Date: Sat, 21 Nov 2026 06:58:11 +0100',
      `Message-ID: <${id}@example.org>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Confidential: ${bodyToken}`,
      extraBody,
      '',
    ].join('\n'),
    'utf8',
  );
  return { raw, subjectToken, bodyToken };
}

/** The CLI flags that point the real spamc at a spamd on 127.0.0.1:port. */
export const spamcAt = (port: number): string[] => [
  '--spamc-arg',
  '-d',
  '--spamc-arg',
  '127.0.0.1',
  '--spamc-arg',
  '-p',
  '--spamc-arg',
  String(port),
];

export interface FilterRun {
  readonly run: CliResult;
  readonly calls: RecordedCall[];
  readonly handoffs: Handoff[];
  /** The oracle's verdict on the run (exit 0 → correct ciphertext for keyed recipients; 75 → nothing handed on). */
  readonly verdict: Verdict;
}

export interface FilterCall {
  readonly world: FaultWorld;
  readonly input: Buffer;
  readonly recipients?: readonly OracleRecipient[];
  readonly sender?: string;
  /** Extra CLI flags (before -f). --db, --sendmail, --no-spam-check and --deadline are set unless overridden. */
  readonly flags?: readonly string[];
  readonly spamCheck?: boolean;
  readonly dbUrl?: string;
  readonly sendmail?: string;
  readonly deadlineMs?: number;
  /** Environment for the recording sendmail (RECORD_MODE ...), or anything else the CLI should see. */
  readonly env?: Record<string, string>;
  readonly onSpawn?: (pid: number) => void;
  readonly killAfterMs?: number;
  readonly holdStdin?: boolean;
  /** Use this recording directory (the caller watches and removes it) instead of a fresh one. */
  readonly recordDir?: string;
}

export async function runFilterCli(call: FilterCall): Promise<FilterRun> {
  const rec = call.recordDir === undefined ? recordDir() : { dir: call.recordDir, cleanup: () => undefined };
  const recipients = call.recipients ?? [call.world.alice];
  const sender = call.sender ?? 'sender@example.org';
  const deadlineMs = call.deadlineMs ?? 20_000;
  try {
    const args = [
      'filter',
      '--db',
      call.dbUrl ?? call.world.pg.url,
      '--sendmail',
      call.sendmail ?? RECORDING_SENDMAIL,
      ...(call.spamCheck === true ? [] : ['--no-spam-check']),
      '--deadline',
      String(deadlineMs),
      ...(call.flags ?? []),
      '-f',
      sender,
      '--',
      ...recipients.map((r) => r.address),
    ];
    const run = await runCli(args, {
      input: call.input,
      env: { RECORD_DIR: rec.dir, ...call.env },
      pipe: true,
      timeoutMs: call.killAfterMs ?? deadlineMs + 15_000,
      holdStdin: call.holdStdin ?? false,
      ...(call.onSpawn === undefined ? {} : { onSpawn: call.onSpawn }),
    });
    const calls = readRecords(rec.dir);
    const handoffs = calls.map(handoffOf);
    const exitCode = run.timedOut ? 'hang' : (run.code ?? -1);
    const verdict = await judge(
      { input: call.input, sender, recipients, exitCode, handoffs, diagnostics: run.output },
      oracleOptions({ enabled: true, subjectPlaceholder: '[...]' }),
    );
    return { run, calls, handoffs, verdict };
  } finally {
    rec.cleanup();
  }
}

/** Asserts the documented outcome: exit code, the oracle's verdict, a one-line 4.x.x/5.x.x/2.x.x status, no token. */
export function assertOutcome(r: FilterRun, expected: 0 | 69 | 75, tokens: readonly string[] = []): void {
  if (process.env.FAULTS_VERBOSE !== undefined)
    console.log(`    exit ${r.run.code} in ${r.run.ms} ms: ${r.run.output.trim()}`);
  assert.equal(r.run.timedOut, false, `no hang (took ${r.run.ms} ms)`);
  assert.equal(r.run.signal, null, 'pgpipe was not killed by a signal');
  assert.equal(r.run.code, expected, `exit code; output: ${r.run.output.slice(0, 300)}`);
  if (expected !== 69) assert.ok(r.verdict.ok, r.verdict.ok ? '' : `oracle: ${r.verdict.reason}`);
  const prefix = expected === 0 ? '2.' : expected === 75 ? '4.' : '5.';
  assert.ok(
    r.run.output.startsWith(prefix),
    `status line starts with ${prefix}: ${JSON.stringify(r.run.output.slice(0, 120))}`,
  );
  assert.ok(r.run.output.length < 4095, 'output fits what pipe(8) captures');
  for (const t of tokens) assert.ok(!r.run.output.includes(t), `token ${t} not in pgpipe's output`);
  if (expected !== 0) assert.equal(r.handoffs.filter((h) => h.accepted).length, 0, 'nothing handed on');
}

/**
 * True while a process with this pid runs (a zombie — killed, not yet reaped by a PID 1 that never reaps — is
 * dead).
 */
export function alive(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s+[ZX]/m.test(status);
  } catch {
    return false;
  }
}

/**
 * Runs `fn` with a pid file for the stand-in's sleeping grandchildren, and ends every one of them afterwards;
 * `alive` says which were still running (holding the pipes) when `fn` was done.
 */
export async function withLingerers<T>(
  fn: (pidFile: string) => Promise<T>,
): Promise<{ result: T; pids: number[]; stillAlive: boolean[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'pgpipe-linger-'));
  const pidFile = join(dir, 'pids');
  let pids: number[] = [];
  try {
    const result = await fn(pidFile);
    try {
      pids = readFileSync(pidFile, 'utf8').trim().split('\n').filter(Boolean).map(Number);
    } catch {
      pids = [];
    }
    return { result, pids, stillAlive: pids.map(alive) };
  } finally {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
