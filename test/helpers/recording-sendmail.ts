// The recording sendmail stand-in (test/fixtures/bin/recording-sendmail.mjs): where it is, a directory for it to
// record into, and what it recorded, read back as envelopes.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Handoff } from './oracle.js';

export const RECORDING_SENDMAIL = fileURLToPath(new URL('../fixtures/bin/recording-sendmail.mjs', import.meta.url));

export interface RecordedCall {
  readonly argv: readonly string[];
  /** The stand-in's process id (to prove it is gone afterwards). */
  readonly pid: number;
  /** null when the stand-in never finished (killed, or still hanging). */
  readonly exit: number | null;
  readonly data: Buffer | null;
}

/** Every sendmail invocation recorded in `dir`, oldest first. */
export function readRecords(dir: string): RecordedCall[] {
  const names = readdirSync(dir);
  return names
    .filter((n) => n.endsWith('.start.json'))
    .sort()
    .map((start) => {
      const id = start.slice(0, -'.start.json'.length);
      const { argv, pid } = JSON.parse(readFileSync(join(dir, start), 'utf8')) as { argv: string[]; pid: number };
      if (!names.includes(`${id}.done.json`)) return { argv, pid, exit: null, data: null };
      const done = JSON.parse(readFileSync(join(dir, `${id}.done.json`), 'utf8')) as { exit: number };
      return { argv, pid, exit: done.exit, data: readFileSync(join(dir, `${id}.eml`)) };
    });
}

/** sendmail argv → envelope. Requires the safe shape: -i, never -t, `-f SENDER`, then `--` before recipients. */
export function handoffOf(call: RecordedCall): Handoff & { argvProblem: string | null } {
  const { argv } = call;
  const dashdash = argv.indexOf('--');
  const options = dashdash === -1 ? argv : argv.slice(0, dashdash);
  const f = options.indexOf('-f');
  let argvProblem: string | null = null;
  if (dashdash === -1) argvProblem = 'sendmail argv lacks "--" before the recipients';
  else if (!options.includes('-i') && !options.includes('-oi')) argvProblem = 'sendmail argv lacks -i';
  else if (options.includes('-t')) argvProblem = 'sendmail argv has -t';
  else if (f === -1 || f + 1 >= options.length) argvProblem = 'sendmail argv lacks -f SENDER';
  return {
    sender: f === -1 ? '' : (options[f + 1] ?? ''),
    recipients: dashdash === -1 ? [] : argv.slice(dashdash + 1),
    data: call.data ?? Buffer.alloc(0),
    accepted: call.exit === 0,
    argvProblem,
  };
}

/** A fresh directory for the recording sendmail; remove it with cleanup(). */
export function recordDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'pgpipe-rec-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
