// `pgpipe setup postfix --apply | --undo`: saves main.cf/master.cf once, runs the postconf commands, or puts the
// saved copies back. postconf -e/-M/-P replace what they set, so running --apply again changes nothing more.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { permanent, temporary } from '../errors.js';
import { SENT_MAP_FILE, SENT_RESTRICTIONS, shellLine, type WiringFile } from './postfix-wiring.js';

const run = promisify(execFile);

export const CONFIG_FILES = ['main.cf', 'master.cf'] as const;
/** The state before pgpipe's first --apply; kept across later --apply runs so --undo returns to it. */
export const savedName = (file: string): string => `${file}.before-pgpipe`;

export interface ApplyReport {
  /** Lines for the operator: what was saved, run, or restored. */
  readonly lines: string[];
}

function checkConfigDir(dir: string): void {
  for (const file of CONFIG_FILES) {
    if (!existsSync(join(dir, file)))
      throw permanent('not-found', `${join(dir, file)} does not exist (is --postfix-config right?)`);
  }
}

export async function applyWiring(
  dir: string,
  commands: readonly string[][],
  files: readonly WiringFile[] = [],
): Promise<ApplyReport> {
  checkConfigDir(dir);
  const lines: string[] = [];
  for (const file of CONFIG_FILES) {
    const from = join(dir, file);
    const to = join(dir, savedName(file));
    if (existsSync(to)) {
      lines.push(`kept ${to} (saved by an earlier --apply; --undo returns to it)`);
    } else {
      copyFileSync(from, to);
      lines.push(`saved ${from} as ${to}`);
    }
  }
  // Lookup tables first: a command may name one, and Postfix must never see a setting whose table is missing.
  for (const file of files) {
    writeFileSync(file.path, file.content, { mode: 0o644 });
    lines.push(`wrote ${file.path}`);
  }
  for (const argv of commands) {
    const [file, ...args] = argv as [string, ...string[]];
    try {
      const { stderr } = await run(file, args, { timeout: 30_000 });
      lines.push(`ran ${shellLine(argv)}`);
      // e.g. "unmatched service_name/type" for a -P on a service this master.cf does not define
      for (const warning of stderr.split('\n').filter((l) => l.trim() !== '')) lines.push(`  ${warning}`);
    } catch (error) {
      const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
      throw temporary('internal', `${shellLine(argv)} failed: ${detail}; ${savedName('*.cf')} copies are in ${dir}`);
    }
  }
  lines.push(
    `now: postfix${dir === '/etc/postfix' ? '' : ` -c ${dir}`} check && ` +
      `postfix${dir === '/etc/postfix' ? '' : ` -c ${dir}`} reload`,
  );
  return { lines };
}

/**
 * --sent-copies sets smtpd_data_restrictions on the submission services, which replaces what those services had
 * there, their own -o or main.cf's. Names what will no longer apply, read before --apply changes anything.
 */
export async function sentCopyNotes(dir: string, services: readonly string[]): Promise<string[]> {
  const value = async (args: string[]): Promise<string> =>
    (await run('postconf', ['-c', dir, ...args], { timeout: 30_000 }).catch(() => ({ stdout: '' }))).stdout.trim();
  const ours = `$${SENT_RESTRICTIONS}`;
  const notes: string[] = [];
  const global = await value(['-h', 'smtpd_data_restrictions']);
  for (const service of services) {
    if ((await value(['-M', service])) === '') continue; // not in this master.cf: postconf -P warns about it already
    const own = (await value(['-P', `${service}/smtpd_data_restrictions`])).replace(/^\S+ = /, '');
    const dropped = own !== '' ? own : global;
    if (dropped !== '' && dropped !== ours) {
      notes.push(
        `note: ${service} loses smtpd_data_restrictions = ${dropped} (${own !== '' ? 'its -o' : 'main.cf'}); ` +
          `to keep it, add it after check_sasl_access ... in ${SENT_RESTRICTIONS}`,
      );
    }
  }
  return notes;
}

export function undoWiring(dir: string): ApplyReport {
  const missing = CONFIG_FILES.filter((file) => !existsSync(join(dir, savedName(file))));
  if (missing.length > 0) {
    throw permanent(
      'not-found',
      `nothing to undo: ${missing.map((f) => join(dir, savedName(f))).join(', ')} not found`,
    );
  }
  const lines: string[] = [];
  for (const file of CONFIG_FILES) {
    const saved = join(dir, savedName(file));
    copyFileSync(saved, join(dir, file));
    rmSync(saved);
    lines.push(`restored ${join(dir, file)} from ${saved}`);
  }
  // Only --apply writes a file of this name, and nothing in the restored configuration names it any more.
  const map = join(dir, SENT_MAP_FILE);
  if (existsSync(map)) {
    rmSync(map);
    lines.push(`removed ${map}`);
  }
  lines.push(`now: postfix${dir === '/etc/postfix' ? '' : ` -c ${dir}`} reload`);
  return { lines };
}
