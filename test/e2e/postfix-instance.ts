// A private Postfix instance for the e2e test: its own config, queue and data directories in a temp dir, smtpd on
// loopback ports, virtual(8) delivery to Maildirs (or, with `delivery: 'local'`, the tutorial's local domain:
// local(8) with alias_maps, and mailbox_transport left to `pgpipe setup postfix`), and the pgpipe services taken
// from postfix-snippets/ verbatim (only the install path /opt/pgpipe/bin/pgpipe is replaced). With `serve`, one of
// the two `pgpipe serve` wirings instead: the delivery proxy (virtual_transport = lmtp:ADDR, where serve listens) or
// the after-queue content filter of FILTER_README (a pgpipe-smtp client service, a re-injection smtpd). Needs root.
// stop() always cleans up.
import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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
  /**
   * smtpd port → the master.cf `-o content_filter=...` service it filters through (none: unfiltered), and any
   * further `-o name=value` overrides (e.g. a submission service's SASL settings).
   */
  readonly listeners: readonly { port: number; contentFilter?: string; options?: readonly string[] }[];
  /** The pgpipe command, put where the snippets say /opt/pgpipe/bin/pgpipe. */
  readonly pgpipeBin: string;
  /** pgpipe.conf contents (exported to the filter as PGPIPE_CONFIG through export_environment). */
  readonly pgpipeConf: string;
  /**
   * 'virtual' (default): virtual(8) Maildirs below the instance. 'local': `domain` is in mydestination, as in the
   * tutorial; local(8) expands `aliases`, then hands each mailbox to mailbox_transport (unset here); every local
   * part is accepted (local_recipient_maps empty), so the final store decides which mailboxes exist.
   */
  readonly delivery?: 'virtual' | 'local';
  /** delivery 'local': alias → members (local parts or addresses), as /etc/aliases lines. */
  readonly aliases?: Readonly<Record<string, readonly string[]>>;
  /** transport_maps entries, e.g. `{ 'gone.test': 'error:5.1.2 no such domain' }`. */
  readonly transports?: Readonly<Record<string, string>>;
  /** Extra main.cf lines, appended last. */
  readonly mainCf?: string;
  /** A `pgpipe serve` wiring (issue 14); `mailboxes` are then the addresses Postfix accepts for `domain`. */
  readonly serve?: ServeWiring;
}

/**
 * 'lmtp', the delivery proxy: `virtual_transport = lmtp:<listen>` (pgpipe serve's --listen, `unix:/path` or
 * `inet:127.0.0.1:PORT`, Postfix's syntax too), so every virtual mailbox goes through serve to Dovecot.
 * 'smtp', the after-queue content filter: a `pgpipe-smtp` smtp(8) service with XFORWARD, pgpipe serve on
 * 127.0.0.1:`filterPort`, and the re-injection smtpd on 127.0.0.1:`reinjectPort` (`-o content_filter=`, no checks
 * a second time), after which `virtualTransport` (e.g. Dovecot's LMTP) or virtual(8) delivers. `global`: the
 * content_filter is in main.cf, so pickup (sendmail) and bounces pass through serve too; otherwise only the smtpd
 * listeners that name `SERVE_SMTP_FILTER(filterPort)` as their contentFilter.
 */
export type ServeWiring =
  | { readonly protocol: 'lmtp'; readonly listen: string }
  | {
      readonly protocol: 'smtp';
      readonly filterPort: number;
      readonly reinjectPort: number;
      readonly global?: boolean;
      readonly virtualTransport?: string;
    };

/** The content_filter value that sends mail to pgpipe serve --protocol smtp on 127.0.0.1:`port`. */
export const serveSmtpFilter = (port: number): string => `pgpipe-smtp:[127.0.0.1]:${port}`;

export interface PostfixInstance {
  readonly dir: string;
  readonly configDir: string;
  postconf(setting: string): Promise<void>;
  queue(): Promise<QueueEntry[]>;
  flush(): Promise<void>;
  reload(): Promise<void>;
  /** Postfix's sendmail(1) with this instance's MAIL_CONFIG, as `user` (default root), message on stdin. */
  sendmail(args: readonly string[], message: string | Buffer, user?: string): Promise<void>;
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
  await run('postconf', [
    '-e',
    `alternate_config_directories = ${[before, configDir].filter((v) => v !== '').join(', ')}`,
  ]);
  return async () => {
    if (!existed) rmSync(main, { force: true });
    else await run('postconf', ['-e', `alternate_config_directories = ${before}`]);
  };
}

function masterCf(options: PostfixOptions): string {
  const listeners = options.listeners.map(
    (l) =>
      `127.0.0.1:${l.port} inet n - n - - smtpd\n` +
      (l.contentFilter === undefined ? '' : `  -o content_filter=${l.contentFilter}\n`) +
      (l.options ?? []).map((o) => `  -o ${o}\n`).join(''),
  );
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
lmtp      unix  -       -       n       -       -       lmtp
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
  return (
    `${listeners.join('')}${daemons}\n${install(snippet('master.cf'))}\n${install(snippet('master.cf.tutorial'))}\n` +
    serveMasterCf(options.serve)
  );
}

/** FILTER_README's advanced content filter: the client service towards serve, and the re-injection smtpd. */
function serveMasterCf(serve: ServeWiring | undefined): string {
  if (serve?.protocol !== 'smtp') return '';
  // maxproc 10: as many parallel sessions to serve as the filter may take; XFORWARD carries the original client.
  return `pgpipe-smtp unix - - n - 10 smtp
  -o smtp_send_xforward_command=yes
  -o disable_mime_output_conversion=yes
  -o smtp_data_done_timeout=300s
  -o disable_dns_lookups=yes
  -o syslog_name=postfix/pgpipe-smtp
127.0.0.1:${serve.reinjectPort} inet n - n - - smtpd
  -o syslog_name=postfix/reinject
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters,no_address_mappings
  -o smtpd_data_restrictions=
  -o smtpd_helo_restrictions=
  -o smtpd_client_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o mynetworks=127.0.0.0/8
  -o smtpd_authorized_xforward_hosts=127.0.0.0/8
`;
}

/**
 * A global content_filter reaches what smtpd, qmqpd and pickup receive: they write the filter record, cleanup does
 * not. Postfix's own bounces (bounce(8) hands them to cleanup directly) would skip it and reach a keyed mailbox in
 * clear. cleanup's header_checks FILTER action covers them, once internal_mail_filter_classes lets header_checks see
 * bounces; the re-injection smtpd skips header checks (no_header_body_checks), so nothing loops.
 */
function globalFilterCf(dir: string, filterPort: number): string {
  const filter = serveSmtpFilter(filterPort);
  writeFileSync(join(dir, 'etc', 'serve-filter.regexp'), `/^/ FILTER ${filter}\n`);
  return (
    `content_filter = ${filter}\ninternal_mail_filter_classes = bounce\n` +
    `header_checks = regexp:${join(dir, 'etc', 'serve-filter.regexp')}\n`
  );
}

function serveMainCf(dir: string, serve: ServeWiring | undefined): string {
  if (serve === undefined) return '';
  // XFORWARD gives serve the queue id for its log line.
  if (serve.protocol === 'lmtp')
    return (
      `virtual_transport = lmtp:${serve.listen}\n` + 'lmtp_send_xforward_command = yes\nlmtp_data_done_timeout = 300s\n'
    );
  return (
    (serve.global === true ? globalFilterCf(dir, serve.filterPort) : '') +
    (serve.virtualTransport === undefined ? '' : `virtual_transport = ${serve.virtualTransport}\n`)
  );
}

function deliveryCf(dir: string, options: PostfixOptions): string {
  if (options.delivery === 'local') {
    return `mydestination = ${options.domain}
local_recipient_maps =
alias_maps = hash:${dir}/etc/aliases
alias_database = hash:${dir}/etc/aliases
`;
  }
  return `mydestination =
alias_maps =
alias_database =
virtual_mailbox_domains = ${options.domain}
virtual_mailbox_base = ${dir}/vmail
virtual_mailbox_maps = texthash:${dir}/etc/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
`;
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
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination
relayhost =
smtputf8_enable = no
transport_maps = texthash:${dir}/etc/transport
${deliveryCf(dir, options)}# pipe(8) passes only these variables: this is how the filter finds its config file here.
export_environment = TZ MAIL_CONFIG LANG PGPIPE_CONFIG=${dir}/etc/pgpipe.conf
${snippet('main.cf')}
${serveMainCf(dir, options.serve)}${options.mainCf ?? ''}
`;
}

export async function startPostfix(options: PostfixOptions): Promise<PostfixInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'pgpipe-postfix-'));
  chmodSync(dir, 0o755); // postfix and the filter user must reach the queue and config below it
  const configDir = join(dir, 'etc');
  for (const sub of ['etc', 'spool', 'data', 'vmail']) mkdirSync(join(dir, sub));
  chownSync(
    join(dir, 'data'),
    Number((await run('id', ['-u', 'postfix'])).stdout),
    Number((await run('id', ['-g', 'postfix'])).stdout),
  );
  chownSync(join(dir, 'vmail'), 65534, 65534);
  writeFileSync(join(configDir, 'main.cf'), mainCf(dir, options));
  writeFileSync(join(configDir, 'master.cf'), masterCf(options));
  writeFileSync(
    join(configDir, 'vmailbox'),
    options.mailboxes.map((m) => `${m}@${options.domain} ${options.domain}/${m}/\n`).join(''),
  );
  writeFileSync(join(configDir, 'pgpipe.conf'), options.pgpipeConf, { mode: 0o644 });
  const aliases = Object.entries(options.aliases ?? {}).map(([alias, members]) => `${alias}: ${members.join(', ')}\n`);
  writeFileSync(join(configDir, 'aliases'), aliases.join(''));
  const transports = Object.entries(options.transports ?? {}).map(([domain, transport]) => `${domain} ${transport}\n`);
  writeFileSync(join(configDir, 'transport'), transports.join(''));
  // /etc/aliases syntax ("name: member, member") needs postalias, as newaliases does for the tutorial's file.
  if (options.delivery === 'local') await run('postalias', ['-c', configDir, `hash:${join(configDir, 'aliases')}`]);
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
      return stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as QueueEntry);
    },
    async flush() {
      await run('postqueue', ['-c', configDir, '-f']);
    },
    async reload() {
      await postfix('check');
      await postfix('reload');
    },
    async sendmail(args, message, user) {
      const argv = ['/usr/sbin/sendmail', ...args];
      // runuser resets the environment: MAIL_CONFIG goes through env(1).
      const asUser =
        user === undefined ? argv : ['runuser', '-u', user, '--', 'env', `MAIL_CONFIG=${configDir}`, ...argv];
      const env = { ...process.env, MAIL_CONFIG: configDir };
      const child = execFile(asUser[0] as string, asUser.slice(1), { env, timeout: 30_000 });
      let output = '';
      child.stderr?.on('data', (chunk: Buffer | string) => (output += String(chunk)));
      const done = new Promise<void>((resolve, reject) =>
        child.once('close', (code) =>
          code === 0 ? resolve() : reject(new Error(`sendmail exited ${code}: ${output}`)),
        ),
      );
      child.stdin?.end(message);
      await done;
    },
    delivered(localPart) {
      const box = join(dir, 'vmail', options.domain, localPart, 'new');
      if (!existsSync(box)) return [];
      return readdirSync(box)
        .sort()
        .map((f) => readFileSync(join(box, f)));
    },
    maillog() {
      const file = join(dir, 'maillog');
      return existsSync(file) ? readFileSync(file, 'utf8') : '';
    },
    stop,
  };
}

/** Polls `test` until it returns a value (not undefined), or throws after `timeoutMs` with `what` and a log tail. */
export async function waitFor<T>(
  what: string,
  test: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  log: () => string,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await test();
    if (value !== undefined) return value;
    if (Date.now() > until)
      throw new Error(
        `timed out waiting for ${what}\n--- maillog tail ---\n${log().split('\n').slice(-25).join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}
