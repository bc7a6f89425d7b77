// `pgpipe setup postfix --apply | --undo`: saves main.cf/master.cf once, runs the postconf commands, or puts the
// saved copies back. postconf -e/-M/-P replace what they set, so running --apply again changes nothing more.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { permanent, temporary } from '../errors.js';
import {
  DEFAULT_QUEUE_DIRECTORY,
  SENT_MAP_FILE,
  SERVE_FILTER_FILE,
  SENT_RESTRICTIONS,
  serveListen,
  serveNext,
  shellLine,
  type WiringFile,
  type WiringOptions,
} from './postfix-wiring.js';

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
  const value = (args: string[]): Promise<string> => postconfValue(dir, args);
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

/** One value of `postconf -c dir ARGS`, '' when postconf fails (no such directory, no Postfix here). */
async function postconfValue(dir: string, args: string[]): Promise<string> {
  return (await run('postconf', ['-c', dir, ...args], { timeout: 30_000 }).catch(() => ({ stdout: '' }))).stdout.trim();
}

/**
 * serve-lmtp: where Postfix's lmtp client lives (queue_directory) and the group it runs as (mail_owner's), read from
 * this configuration; Debian's defaults when there is none to read (printing on a machine without Postfix).
 */
export async function postfixFacts(dir: string): Promise<{ queueDirectory: string; postfixGroup: string }> {
  const queueDirectory = (await postconfValue(dir, ['-h', 'queue_directory'])) || DEFAULT_QUEUE_DIRECTORY;
  const owner = (await postconfValue(dir, ['-h', 'mail_owner'])) || 'postfix';
  const group = (await run('id', ['-gn', owner], { timeout: 10_000 }).catch(() => ({ stdout: owner }))).stdout.trim();
  return { queueDirectory, postfixGroup: group || owner };
}

/** serve-smtp: main.cf's lists the wiring adds to (header_checks, internal_mail_filter_classes). */
export async function serveSmtpFacts(
  dir: string,
): Promise<{ headerChecks: string; internalMailFilterClasses: string }> {
  const headerChecks = await postconfValue(dir, ['-h', 'header_checks']);
  const internalMailFilterClasses = await postconfValue(dir, ['-h', 'internal_mail_filter_classes']);
  return { headerChecks, internalMailFilterClasses };
}

/**
 * serve-smtp against the master.cf/main.cf there: refuses a --listen or --next port another service already has
 * (Postfix's own smtpd on pgpipe's port would take the filter's mail and deliver it unencrypted, e.g. amavis's
 * re-injection on 127.0.0.1:10025 from the tutorial), and names what the wiring replaces or what bypasses it.
 */
export async function serveSmtpChecks(dir: string, options: WiringOptions): Promise<string[]> {
  const port = (address: string): string => address.replace(/.*:/, '');
  const [listenPort, nextPort] = [port(serveListen(options)), port(serveNext(options))];
  const reinject = `${serveNext(options).slice('inet:'.length)}/inet`;
  const entries = (await postconfValue(dir, ['-M'])).split('\n').filter((l) => l.trim() !== '');
  for (const entry of entries) {
    const [name = '', type = ''] = entry.split(/\s+/);
    if (type !== 'inet' || `${name}/${type}` === reinject) continue;
    const used = port(name);
    if (used === listenPort || used === nextPort) {
      const flag = used === listenPort ? '--listen' : '--next';
      throw permanent(
        'usage',
        `master.cf already has "${name} inet ..." on port ${used}, which ${flag} needs: mail for pgpipe would ` +
          `reach that service instead; choose another port (${flag} inet:127.0.0.1:PORT)`,
      );
    }
  }
  const notes: string[] = [];
  const ours = `${options.service}:[`;
  const global = await postconfValue(dir, ['-h', 'content_filter']);
  if (global !== '' && !global.startsWith(ours)) {
    notes.push(`note: main.cf's content_filter = ${global} is replaced; chain it after pgpipe if you still need it`);
  }
  for (const line of (await postconfValue(dir, ['-P'])).split('\n')) {
    const match = /^(\S+\/\S+)\/content_filter = (\S+)$/.exec(line);
    if (match === null || match[1] === reinject) continue;
    notes.push(
      `note: ${match[1]} keeps its own -o content_filter=${match[2]}: its mail does not go through pgpipe serve ` +
        `(postconf -c ${dir} -PX ${match[1]}/content_filter removes it)`,
    );
  }
  return notes;
}

/** The directory serve-lmtp's --apply makes (the default --listen's); removed by --undo when nothing but sockets. */
async function undoSocketDir(dir: string, lines: string[]): Promise<void> {
  const socketDir = join((await postconfValue(dir, ['-h', 'queue_directory'])) || DEFAULT_QUEUE_DIRECTORY, 'pgpipe');
  if (!existsSync(socketDir)) return;
  const names = readdirSync(socketDir);
  if (names.some((name) => !statSync(join(socketDir, name)).isSocket())) {
    lines.push(`kept ${socketDir}: it holds more than pgpipe serve's socket`);
    return;
  }
  for (const name of names) rmSync(join(socketDir, name));
  rmdirSync(socketDir);
  lines.push(`removed ${socketDir} (stop the service: systemctl disable --now pgpipe-serve)`);
}

export async function undoWiring(dir: string): Promise<ApplyReport> {
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
  // Only --apply writes files of these names, and nothing in the restored configuration names them any more.
  for (const name of [SENT_MAP_FILE, SERVE_FILTER_FILE]) {
    const map = join(dir, name);
    if (!existsSync(map)) continue;
    rmSync(map);
    lines.push(`removed ${map}`);
  }
  await undoSocketDir(dir, lines);
  lines.push(`now: postfix${dir === '/etc/postfix' ? '' : ` -c ${dir}`} reload`);
  return { lines };
}
