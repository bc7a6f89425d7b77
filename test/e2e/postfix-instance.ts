// A private Postfix instance for the e2e test: its own config, queue and data directories in a temp dir, smtpd on
// loopback ports, virtual(8) delivery to Maildirs, and the pgpipe services taken from postfix-snippets/ verbatim
// (only the install path /opt/pgpipe/bin/pgpipe is replaced). Needs root. stop() always cleans up.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SNIPPETS = new URL('../../postfix-snippets/', import.meta.url);
export const snippet = (name: string): string => readFileSync(new URL(name, SNIPPETS), 'utf8');

export interface QueueEntry {
  readonly queue_name: string;
  readonly queue_id: string;
  readonly sender: string;
  readonly recipients: { address: string; delay_reason?: string }[];
}

export interface PostfixOptions {
  /** Domain delivered by virtual(8) to Maildirs; every mailbox in `mailboxes` gets one. */
  readonly domain: string;
  readonly mailboxes: readonly string[];
  /** smtpd port → the master.cf `-o content_filter=...` service it filters through. */
  readonly listeners: readonly { port: number; contentFilter: string }[];
  /** The pgpipe command, put where the snippets say /opt/pgpipe/bin/pgpipe. */
  readonly pgpipeBin: string;
  /** pgpipe.conf contents (exported to the filter as PGPIPE_CONFIG through export_environment). */
  readonly pgpipeConf: string;
}

export interface PostfixInstance {
  readonly dir: string;
  readonly configDir: string;
  postconf(setting: string): Promise<void>;
  queue(): Promise<QueueEntry[]>;
  flush(): Promise<void>;
  /** Delivered messages of one mailbox (Maildir new/), oldest first. */
  delivered(localPart: string): Buffer[];
  maillog(): string;
  stop(): Promise<void>;
}

/** The default instance must list our config dir, or the set-gid postdrop refuses it for the (non-root) filter. */
async function blessConfigDir(configDir: string): Promise<() => Promise<void>> {
  const main = '/etc/postfix/main.cf';
  const existed = existsSync(main);
  if (!existed) writeFileSync(main, '');
  const before = existed ? (await run('postconf', ['-h', 'alternate_config_directories'])).stdout.trim() : '';
  await run('postconf', ['-e', `alternate_config_directories = ${[before, configDir].filter((v) => v !== '').join(', ')}`]);
  return async () => {
    if (!existed) rmSync(main, { force: true });
    else await run('postconf', ['-e', `alternate_config_directories = ${before}`]);
  };
}

function masterCf(options: PostfixOptions): string {
  const listeners = options.listeners.map((l) => `127.0.0.1:${l.port} inet n - n - - smtpd\n  -o content_filter=${l.contentFilter}\n`);
  // Debian's master.cf runs most daemons chrooted into the queue directory; a temp instance runs none chrooted.
  const daemons = `
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;
  const install = (text: string): string => text.replaceAll('/opt/pgpipe/bin/pgpipe', options.pgpipeBin);
  return `${listeners.join('')}${daemons}\n${install(snippet('master.cf'))}\n${install(snippet('master.cf.tutorial'))}`;
}

function mainCf(dir: string, options: PostfixOptions): string {
  return `compatibility_level = 3.6
queue_directory = ${dir}/spool
data_directory = ${dir}/data
maillog_file_prefixes = ${dir}
maillog_file = ${dir}/maillog
myhostname = mx.${options.domain}
mydomain = ${options.domain}
myorigin = ${options.domain}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination
relayhost =
alias_maps =
alias_database =
smtputf8_enable = no
virtual_mailbox_domains = ${options.domain}
virtual_mailbox_base = ${dir}/vmail
virtual_mailbox_maps = texthash:${dir}/etc/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
# pipe(8) passes only these variables: this is how the filter finds its config file here.
export_environment = TZ MAIL_CONFIG LANG PGPIPE_CONFIG=${dir}/etc/pgpipe.conf
${snippet('main.cf')}
`;
}

export async function startPostfix(options: PostfixOptions): Promise<PostfixInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'pgpipe-postfix-'));
  chmodSync(dir, 0o755); // postfix and the filter user must reach the queue and config below it
  const configDir = join(dir, 'etc');
  for (const sub of ['etc', 'spool', 'data', 'vmail']) mkdirSync(join(dir, sub));
  chownSync(join(dir, 'data'), Number((await run('id', ['-u', 'postfix'])).stdout), Number((await run('id', ['-g', 'postfix'])).stdout));
  chownSync(join(dir, 'vmail'), 65534, 65534);
  writeFileSync(join(configDir, 'main.cf'), mainCf(dir, options));
  writeFileSync(join(configDir, 'master.cf'), masterCf(options));
  writeFileSync(join(configDir, 'vmailbox'), options.mailboxes.map((m) => `${m}@${options.domain} ${options.domain}/${m}/\n`).join(''));
  writeFileSync(join(configDir, 'pgpipe.conf'), options.pgpipeConf, { mode: 0o644 });
  const unbless = await blessConfigDir(configDir);
  const postfix = (...args: string[]) => run('postfix', ['-c', configDir, ...args], { timeout: 60_000 });
  // If the test process dies first, the instance must not outlive it (synchronous: 'exit' allows nothing else).
  const abortOnExit = (): void => {
    try {
      execFileSync('postfix', ['-c', configDir, 'abort'], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // not running
    }
  };
  process.once('exit', abortOnExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', abortOnExit);
    await postfix('stop').catch(() => postfix('abort').catch(() => undefined));
    await unbless().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await postfix('check');
    await postfix('start');
  } catch (error) {
    const log = existsSync(join(dir, 'maillog')) ? readFileSync(join(dir, 'maillog'), 'utf8') : '';
    await stop();
    throw new Error(`postfix did not start: ${String(error)}\n${log}`);
  }
  return {
    dir,
    configDir,
    async postconf(setting) {
      await run('postconf', ['-c', configDir, '-e', setting]);
    },
    async queue() {
      const { stdout } = await run('postqueue', ['-c', configDir, '-j']);
      return stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as QueueEntry);
    },
    async flush() {
      await run('postqueue', ['-c', configDir, '-f']);
    },
    delivered(localPart) {
      const box = join(dir, 'vmail', options.domain, localPart, 'new');
      if (!existsSync(box)) return [];
      return readdirSync(box).sort().map((f) => readFileSync(join(box, f)));
    },
    maillog() {
      const file = join(dir, 'maillog');
      return existsSync(file) ? readFileSync(file, 'utf8') : '';
    },
    stop,
  };
}

/** Polls `test` until it returns a value (not undefined), or throws after `timeoutMs` with `what` and a log tail. */
export async function waitFor<T>(what: string, test: () => Promise<T | undefined> | T | undefined, timeoutMs: number, log: () => string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await test();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n--- maillog tail ---\n${log().split('\n').slice(-25).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
