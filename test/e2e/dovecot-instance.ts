// A private Dovecot 2.3 instance for the e2e test: its own config file, base_dir, state_dir, log and
// mail_temp_dir in a temp dir, passwd-file users with Maildir homes below it, the LMTP listeners of
// postfix-snippets/dovecot.conf verbatim (only /var/spool/postfix/private/ moves into the temp dir), IMAP through
// `doveadm exec imap` (pre-authenticated, no network listener). Needs root. stop()/start() stop and start the
// daemon and keep the mail; destroy() removes everything.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { snippet } from './postfix-instance.js';

const run = promisify(execFile);
/** Mail files belong to this uid/gid (nobody), as the Postfix harness's virtual(8) mailboxes do. */
const MAIL_ID = 65534;

export interface DovecotOptions {
  /** Mailboxes are `<local part>@<domain>`. */
  readonly domain: string;
  readonly users: readonly string[];
  /**
   * postfix-snippets/dovecot-sent.conf, its Sieve rule and the Sent ACL (only /etc/dovecot/ moves), an auth socket
   * for Postfix's SASL, as the tutorial's private/auth: the users log in on the submission port with e2e-password.
   */
  readonly sentCopies?: boolean;
  /** Appended to the config file as is (e.g. the Sieve plugin settings of test/e2e/sieve.test.ts). */
  readonly extraConfig?: string;
}

export interface DovecotInstance {
  readonly dir: string;
  readonly configFile: string;
  /** The snippet's pgpipe listener as `pgpipe deliver --lmtp` takes it: `unix:/path`. */
  readonly lmtpUnix: string;
  /** Dovecot's temp-file directory for large LMTP messages (mail_temp_dir). */
  readonly tempDir: string;
  /** sentCopies: the auth socket Postfix's smtpd_sasl_path names (smtpd_sasl_type = dovecot). */
  readonly authSocket: string;
  /** The user's home: Maildir/ (messages, tmp/, dovecot.index*, dovecot-uidlist) lives below it. */
  home(localPart: string): string;
  /** Stored messages of a user's mailbox (default INBOX; new/ and cur/), oldest first (by the file name's time). */
  messages(localPart: string, mailbox?: string): Buffer[];
  /** Every regular file below the user's home, with its path (for leak checks). */
  files(localPart: string): { path: string; content: Buffer }[];
  /**
   * One IMAP session as the user (`doveadm exec imap`): the commands, tagged by the caller; returns the output. A
   * Buffer goes in byte for byte (an APPEND literal with 8-bit data).
   */
  imap(localPart: string, commands: readonly (string | Buffer)[]): Promise<string>;
  doveadm(...args: string[]): Promise<string>;
  /** The master process id while running (for strace -p). */
  masterPid(): number | undefined;
  log(): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the daemon and removes every file. */
  destroy(): Promise<void>;
}

function config(dir: string, options: DovecotOptions): string {
  return `# private test instance (test/e2e/dovecot-instance.ts)
instance_name = pgpipe-e2e-${process.pid}-${dir.slice(-6)}
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = lmtp imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:~/Maildir
mail_temp_dir = ${dir}/tmp
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u ${dir}/passwd
}
${snippet('dovecot.conf').replaceAll('/var/spool/postfix/private/', `${dir}/private/`)}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 0
  }
}
protocol lmtp {
  postmaster_address = postmaster@${options.domain}
  hostname = mx.${options.domain}
}
${options.sentCopies === true ? sentConfig(dir) : ''}${options.extraConfig ?? ''}`;
}

function sentConfig(dir: string): string {
  // The ACL first, so that the lmtp process loads it too: the copies must still arrive in Sent.
  return `${snippet('dovecot-sent-acl.conf').replaceAll('/etc/dovecot/', `${dir}/`)}
${snippet('dovecot-sent.conf').replaceAll('/etc/dovecot/sieve/', `${dir}/sieve/`)}
service auth {
  unix_listener ${dir}/private/auth {
    user = postfix
    group = postfix
    mode = 0600
  }
}
`;
}

/**
 * When Dovecot stored a Maildir file, from its name (`SECS.M<usec>P<pid>.host`): the microseconds are not
 * zero-padded, so two files of the same second do not sort by name (M99999 comes after M100000).
 */
function arrival(name: string): number {
  const match = /^(\d+)\.M(\d+)P/.exec(name);
  return match === null ? 0 : Number(match[1]) * 1e6 + Number(match[2]);
}

export async function startDovecot(options: DovecotOptions): Promise<DovecotInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'pgpipe-dovecot-'));
  chmodSync(dir, 0o755); // the pgpipe user must reach run/lmtp-pgpipe
  const configFile = join(dir, 'dovecot.conf');
  for (const sub of ['run', 'state', 'home', 'tmp', 'private']) mkdirSync(join(dir, sub));
  chmodSync(join(dir, 'tmp'), 0o1777);
  if (options.sentCopies === true) {
    mkdirSync(join(dir, 'sieve'));
    writeFileSync(join(dir, 'sieve', 'pgpipe-sent.sieve'), snippet('pgpipe-sent.sieve'));
    writeFileSync(join(dir, 'dovecot-acl'), snippet('dovecot-acl'));
  }
  const homes = join(dir, 'home');
  chownSync(homes, MAIL_ID, MAIL_ID);
  writeFileSync(configFile, config(dir, options));
  writeFileSync(
    join(dir, 'passwd'),
    options.users
      .map((u) => `${u}@${options.domain}:{PLAIN}e2e-password:${MAIL_ID}:${MAIL_ID}::${join(homes, u)}::\n`)
      .join(''),
  );
  const pidFile = join(dir, 'run', 'master.pid');
  const masterPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  };
  // If the test process dies first, the instance must not outlive it (synchronous: 'exit' allows nothing else).
  const killOnExit = (): void => {
    const pid = masterPid();
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  const logFile = join(dir, 'dovecot.log');
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

  const start = async (): Promise<void> => {
    // The master daemonizes; its children keep any inherited pipe open, so give it none (exit status only).
    const started = spawnSync('dovecot', ['-c', configFile], { stdio: 'ignore', timeout: 20_000 });
    if (started.status !== 0) throw new Error(`dovecot exited ${started.status ?? started.signal}:\n${log()}`);
    // The master creates its listeners before it forks away; pgpipe's socket is the readiness check.
    for (let i = 0; i < 100; i++) {
      if (existsSync(join(dir, 'run', 'lmtp-pgpipe')) && masterPid() !== undefined) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`dovecot did not start:\n${log()}`);
  };
  const stop = async (): Promise<void> => {
    const pid = masterPid();
    if (pid === undefined) return;
    process.kill(pid, 'SIGTERM');
    const until = Date.now() + 10_000;
    while (masterPid() !== undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    if (masterPid() !== undefined) process.kill(pid, 'SIGKILL');
    // A listener left behind would make "stopped" look like "reachable".
    rmSync(join(dir, 'run', 'lmtp-pgpipe'), { force: true });
  };
  const walk = (path: string): string[] =>
    !existsSync(path)
      ? []
      : statSync(path).isDirectory()
        ? readdirSync(path).flatMap((name) => walk(join(path, name)))
        : statSync(path).isFile()
          ? [path]
          : [];

  try {
    execFileSync('doveconf', ['-c', configFile, '-n'], { stdio: 'ignore' });
    // As the snippet says: compiled once by the administrator (the lmtp process may not write beside it).
    if (options.sentCopies === true) {
      execFileSync('sievec', ['-c', configFile, join(dir, 'sieve', 'pgpipe-sent.sieve')]);
    }
    await start();
  } catch (error) {
    await stop().catch(() => undefined);
    process.removeListener('exit', killOnExit);
    const text = log();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`dovecot did not start: ${String(error)}\n${text}`);
  }
  return {
    dir,
    configFile,
    lmtpUnix: `unix:${join(dir, 'run', 'lmtp-pgpipe')}`,
    tempDir: join(dir, 'tmp'),
    authSocket: join(dir, 'private', 'auth'),
    home: (user) => join(homes, user),
    messages(user, mailbox = 'INBOX') {
      // Maildir++: INBOX is the Maildir itself, every other mailbox a ".Name" directory in it.
      const box = join(homes, user, 'Maildir', ...(mailbox === 'INBOX' ? [] : [`.${mailbox}`]));
      return ['new', 'cur']
        .flatMap((sub) => {
          const d = join(box, sub);
          return existsSync(d) ? readdirSync(d).map((f) => ({ f, path: join(d, f) })) : [];
        })
        .sort((a, b) => arrival(a.f) - arrival(b.f) || a.f.localeCompare(b.f))
        .map((m) => readFileSync(m.path));
    },
    files: (user) => walk(join(homes, user)).map((path) => ({ path, content: readFileSync(path) })),
    async imap(user, commands) {
      // imap refuses a socket on stdin (Node's stdio pipes are socketpairs: "started from inetd") and panics on a
      // file (no epoll): a shell pipe in, a file out.
      const base = join(dir, `imap-${process.hrtime.bigint()}`);
      writeFileSync(
        `${base}.in`,
        Buffer.concat(
          [...commands, 'zz LOGOUT'].flatMap((c) => [
            Buffer.isBuffer(c) ? c : Buffer.from(c, 'utf8'),
            Buffer.from('\r\n'),
          ]),
        ),
      );
      try {
        const result = spawnSync(
          'sh',
          [
            '-c',
            'cat "$1" | doveadm -c "$2" exec imap -u "$3" >"$4" 2>&1',
            'imap',
            `${base}.in`,
            configFile,
            `${user}@${options.domain}`,
            `${base}.out`,
          ],
          { stdio: 'ignore', timeout: 20_000 },
        );
        const text = existsSync(`${base}.out`) ? readFileSync(`${base}.out`, 'latin1') : '';
        if (result.status !== 0) throw new Error(`imap session failed (${result.status ?? result.signal}): ${text}`);
        return text;
      } finally {
        rmSync(`${base}.in`, { force: true });
        rmSync(`${base}.out`, { force: true });
      }
    },
    async doveadm(...args) {
      return (await run('doveadm', ['-c', configFile, ...args], { timeout: 20_000 })).stdout;
    },
    masterPid,
    log,
    stop,
    start,
    async destroy() {
      process.removeListener('exit', killOnExit);
      await stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
