// The documented Postfix wiring as postconf commands: one argv per line, for `pgpipe setup postfix`. Pure.
// postfix-snippets/ holds the readable form of the same lines (test/setup/ proves the two agree).
import { dirname, relative } from 'node:path';
import { permanent } from '../errors.js';

export type WiringMode = 'filter' | 'deliver' | 'serve-lmtp' | 'serve-smtp';

export interface WiringOptions {
  readonly mode: WiringMode;
  /** Postfix configuration directory; always passed as `postconf -c DIR` so a private instance works. */
  readonly postfixConfig: string;
  /** Absolute path of bin/pgpipe as pipe(8) must run it. */
  readonly pgpipe: string;
  /** pipe(8) user= (not root, not postfix, not in postdrop). */
  readonly user: string;
  /** Passed as `--db URL` on the argv; unset: pgpipe.conf says. */
  readonly databaseUrl?: string | undefined;
  /** deliver: Dovecot's LMTP listener (`unix:/path` or `inet:host:port`). */
  readonly lmtp?: string | undefined;
  /** master.cf service name. */
  readonly service: string;
  /** deliver: which main.cf parameter routes mailboxes to the service. */
  readonly transportSetting: 'mailbox_transport' | 'virtual_transport';
  /** filter: master.cf smtpd services (name/type) that get `-o content_filter=SERVICE:dummy`. */
  readonly smtpdServices: readonly string[];
  /** pipe(8) process limit (master.cf maxproc). */
  readonly maxProcesses: number;
  /** `<service>_time_limit`; must stay well above pgpipe's deadline (Postfix's own limit bounces). */
  readonly timeLimit: string;
  /** deliver: copy each authenticated user's outgoing mail to `login+Sent@domain` (see sentCopyCommands). */
  readonly sentCopies?: boolean | undefined;
  /** sentCopies: the submission smtpd services (name/type) whose authenticated users get the copy. */
  readonly sentServices?: readonly string[] | undefined;
  /** serve: where pgpipe serve listens (serve_listen); default per mode, see serveListen(). */
  readonly listen?: string | undefined;
  /** serve: pgpipe serve's next hop (serve_next): Dovecot's LMTP, or the re-injection smtpd. */
  readonly next?: string | undefined;
  /** serve-lmtp: Postfix's queue_directory, where its (chrooted) lmtp client resolves a relative socket path. */
  readonly queueDirectory?: string | undefined;
  /** serve-lmtp: the group Postfix's lmtp client runs as (mail_owner's group), the socket directory's group. */
  readonly postfixGroup?: string | undefined;
  /** serve-smtp: main.cf's header_checks and internal_mail_filter_classes as they are (our table goes after). */
  readonly headerChecks?: string | undefined;
  readonly internalMailFilterClasses?: string | undefined;
}

export const DEFAULT_SERVICE: Record<WiringMode, string> = {
  filter: 'pgpipe',
  deliver: 'pgpipe-deliver',
  'serve-lmtp': 'pgpipe-lmtp',
  'serve-smtp': 'pgpipe-smtp',
};
export const DEFAULT_SMTPD_SERVICES = ['smtp/inet', 'submission/inet', 'smtps/inet'] as const;
export const DEFAULT_LMTP = 'unix:/run/dovecot/lmtp-pgpipe';
export const DEFAULT_SENT_SERVICES = ['submission/inet', 'smtps/inet'] as const;
/** The main.cf parameter the submission services' smtpd_data_restrictions name (Debian's $mua_* idiom). */
export const SENT_RESTRICTIONS = 'pgpipe_sent_copies';
export const SENT_MAP_FILE = 'pgpipe-sent-copies.regexp';
/**
 * Keyed on the SASL login name (check_sasl_access), never on the envelope sender anyone can forge: the
 * authenticated user `bob@example.org` gets a BCC to `bob+Sent@example.org`, which Dovecot files into Sent.
 * regexp, not pcre: built into Debian's postfix package (pcre needs postfix-pcre).
 */
export const SENT_MAP = '/^([^@+]+)@([^@]+)$/ BCC ${1}+Sent@${2}\n';
/**
 * serve-smtp: Postfix's own bounces and delay notices reach cleanup without main.cf's content_filter (only smtpd,
 * pickup and qmqpd apply it), so a bounce quoting a keyed user's message would be stored in plaintext. A
 * header_checks FILTER action puts the filter on them too, once internal_mail_filter_classes = bounce lets
 * header_checks see them. It is the last table, so the operator's own rules still win on the lines they match.
 */
export const SERVE_FILTER_FILE = 'pgpipe-serve-filter.regexp';

const LMTP = /^(unix:\/\S+|inet:[^\s:]+:\d{1,5})$/;

/**
 * A word that goes into master.cf verbatim: pipe(8) splits argv on whitespace and expands `$name`, and postconf
 * treats `{`/`}` as grouping, so none of those may appear in a value we put there.
 */
function masterCfWord(what: string, value: string): string {
  if (value === '' || /[\s${}]/.test(value)) {
    throw permanent('usage', `${what} must be one word without spaces, "$", "{" or "}": ${JSON.stringify(value)}`);
  }
  return value;
}

function checkDatabaseUrl(url: string): string {
  masterCfWord('--database-url', url);
  // master.cf is world-readable and argv is visible in ps: a password there is a password for everyone.
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw permanent('usage', `--database-url is not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.password !== '' || /(^|&)password=/i.test(parsed.search.slice(1))) {
    throw permanent(
      'usage',
      '--database-url must not hold a password (master.cf is world-readable): use peer ' +
        'authentication (postfix-snippets/pg_ident.conf) or put database_url into pgpipe.conf, ' +
        'readable by the filter user only',
    );
  }
  return url;
}

/** The pipe(8) argv= words after the program path. */
function pgpipeArgs(options: WiringOptions): string[] {
  const db = options.databaseUrl === undefined ? [] : ['--db', checkDatabaseUrl(options.databaseUrl)];
  if (options.mode === 'filter')
    return ['filter', ...db, '--queue-id', '${queue_id}', '-f', '${sender}', '--', '${recipient}'];
  const lmtp = options.lmtp ?? DEFAULT_LMTP;
  if (!LMTP.test(lmtp))
    throw permanent('usage', `--lmtp must be unix:/path or inet:host:port, not ${JSON.stringify(lmtp)}`);
  return ['deliver', '--lmtp', lmtp, ...db, '--queue-id', '${queue_id}', '-f', '${sender}', '--', '${recipient}'];
}

/**
 * The master.cf entry as `postconf -M` takes it. flags: q quotes odd local parts (sendmail and LMTP both parse
 * RFC 5321 quoting); X (deliver) tells Postfix this is final delivery, so a success DSN says "delivered".
 * null_sender= keeps a bounce's empty sender empty instead of MAILER-DAEMON.
 */
export function masterEntry(options: WiringOptions): string {
  const service = masterCfWord('--service', options.service);
  const flags = options.mode === 'deliver' ? 'Xq' : 'q';
  const argv = [masterCfWord('--pgpipe', options.pgpipe), ...pgpipeArgs(options)].join(' ');
  return (
    `${service} unix - n n - ${options.maxProcesses} pipe flags=${flags} ` +
    `user=${masterCfWord('--user', options.user)} ` +
    `null_sender= argv=${argv}`
  );
}

/** One argv per command, in the order they must run. Throws a usage PgpipeError for bad options. */
export function wiringCommands(options: WiringOptions): string[][] {
  if (!options.pgpipe.startsWith('/'))
    throw permanent('usage', `--pgpipe must be an absolute path, not ${JSON.stringify(options.pgpipe)}`);
  if (['root', 'postfix'].includes(options.user)) {
    throw permanent(
      'usage',
      `--user ${options.user}: pipe(8) refuses root and the mail owner; create a user for pgpipe`,
    );
  }
  if (!/^\d+s$/.test(options.timeLimit))
    throw permanent('usage', `--time-limit must be seconds like 300s, not ${JSON.stringify(options.timeLimit)}`);
  const postconf = ['postconf', '-c', options.postfixConfig];
  if (options.mode === 'serve-lmtp' || options.mode === 'serve-smtp') {
    if (options.sentCopies === true) throw permanent('usage', '--sent-copies is for --mode deliver');
    return options.mode === 'serve-lmtp' ? serveLmtpCommands(options, postconf) : serveSmtpCommands(options, postconf);
  }
  const service = options.service;
  const commands: string[][] = [
    [...postconf, '-M', `${service}/unix=${masterEntry(options)}`],
    // One recipient per run: one exit status per recipient, so nobody's problem delays, duplicates or bounces another.
    [...postconf, '-e', `${service}_destination_recipient_limit = 1`],
    // Postfix bounces when its own limit kills the command; pgpipe's deadline (120 s by default) must fire first.
    [...postconf, '-e', `${service}_time_limit = ${options.timeLimit}`],
  ];
  if (options.mode === 'filter') {
    // Only on smtpd services, never in main.cf: re-injected mail comes back through pickup and would loop.
    for (const smtpd of options.smtpdServices) {
      if (!/^[^\s/]+\/(inet|unix|pass)$/.test(smtpd))
        throw permanent('usage', `--smtpd-service must be name/type, not ${JSON.stringify(smtpd)}`);
      commands.push([...postconf, '-P', `${smtpd}/content_filter=${service}:dummy`]);
    }
  } else {
    commands.push([...postconf, '-e', `${options.transportSetting} = ${service}`]);
  }
  if (options.sentCopies === true) commands.push(...sentCopyCommands(options, postconf));
  return commands;
}

/**
 * Sent copies: smtpd on the submission services looks the SASL login name up and adds a BCC recipient
 * `login+Sent@domain` (access(5) BCC, a non-final action: the other restrictions still apply). Only there: on
 * port 25 nobody is authenticated, and a forged envelope sender changes nothing because the sender is not the key.
 * The copy then takes the ordinary delivery path (local(8), pgpipe deliver) and is encrypted like any mail.
 */
function sentCopyCommands(options: WiringOptions, postconf: readonly string[]): string[][] {
  if (options.mode !== 'deliver') throw permanent('usage', '--sent-copies is for --mode deliver');
  masterCfWord('--postfix-config', options.postfixConfig); // the map's path goes into a main.cf value
  const [map] = wiringFiles(options);
  const commands = [[...postconf, '-e', `${SENT_RESTRICTIONS} = check_sasl_access regexp:${map?.path ?? ''}`]];
  for (const smtpd of options.sentServices ?? DEFAULT_SENT_SERVICES) {
    if (!/^[^\s/]+\/(inet|unix|pass)$/.test(smtpd)) {
      throw permanent('usage', `--sent-service must be name/type, not ${JSON.stringify(smtpd)}`);
    }
    commands.push([...postconf, '-P', `${smtpd}/smtpd_data_restrictions=$${SENT_RESTRICTIONS}`]);
  }
  return commands;
}

/** A file the wiring needs besides main.cf/master.cf (written by --apply, printed as a here-document). */
export interface WiringFile {
  readonly path: string;
  readonly content: string;
}

/** Files to write before the commands run; only --sent-copies has one (its lookup table). */
export function wiringFiles(options: WiringOptions): WiringFile[] {
  if (options.mode === 'serve-smtp') {
    const listen = LOOPBACK.exec(serveListen(options)) ?? [];
    const filter = `${options.service}:[${listen[1] ?? '127.0.0.1'}]:${listen[2] ?? '10025'}`;
    masterCfWord('--postfix-config', options.postfixConfig); // the table's path goes into a main.cf value
    return [{ path: serveFilterPath(options), content: `/^/ FILTER ${filter}\n` }];
  }
  if (options.sentCopies !== true) return [];
  return [{ path: `${options.postfixConfig.replace(/\/+$/, '')}/${SENT_MAP_FILE}`, content: SENT_MAP }];
}

/** A here-document that writes `file`, for the printed form (the map's `$` must stay literal: quoted 'EOF'). */
export function fileLines(file: WiringFile): string {
  return `cat > ${shellQuote(file.path)} <<'EOF'\n${file.content}EOF`;
}

/** Quotes one word for a POSIX shell: plain words stay bare, anything else goes in single quotes. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

export const shellLine = (argv: readonly string[]): string => argv.map(shellQuote).join(' ');

// ---- pgpipe serve: Postfix talks LMTP or SMTP to the resident service (README "Operating pgpipe serve") ----

/** Postfix's own queue subdirectories: the socket directory must be none of them (we chmod/chown it). */
const QUEUE_SUBDIRS = new Set(
  'active bounce corrupt defer deferred flush hold incoming maildrop pid private public saved trace'.split(' '),
);
export const DEFAULT_QUEUE_DIRECTORY = '/var/spool/postfix';
export const DEFAULT_SERVE_SMTP_LISTEN = 'inet:127.0.0.1:10025';
export const DEFAULT_SERVE_SMTP_NEXT = 'inet:127.0.0.1:10026';
const LOOPBACK = /^inet:(127\.\d{1,3}\.\d{1,3}\.\d{1,3}):(\d{1,5})$/;

const queueDirectory = (options: WiringOptions): string =>
  (options.queueDirectory ?? DEFAULT_QUEUE_DIRECTORY).replace(/(.)\/+$/, '$1');

/** Where pgpipe serve listens: for serve-lmtp a socket in a directory of its own inside Postfix's queue directory. */
export function serveListen(options: WiringOptions): string {
  if (options.listen !== undefined) return options.listen;
  return options.mode === 'serve-lmtp' ? `unix:${queueDirectory(options)}/pgpipe/lmtp` : DEFAULT_SERVE_SMTP_LISTEN;
}

export function serveNext(options: WiringOptions): string {
  return options.next ?? (options.mode === 'serve-lmtp' ? DEFAULT_LMTP : DEFAULT_SERVE_SMTP_NEXT);
}

/**
 * serve-lmtp's socket, checked: a unix socket in a directory of pgpipe's own directly inside the queue directory.
 * Debian's lmtp runs chrooted there, so the transport names it relative to the queue directory (which also works
 * unchrooted: Postfix's daemons run in it). Not inet on 127.0.0.1: every local user could connect and have mail
 * stored through it; the directory (pgpipe:postfix, 2750) lets only Postfix and pgpipe reach the socket.
 */
export function serveSocket(options: WiringOptions): { path: string; dir: string; relative: string } {
  const listen = serveListen(options);
  const queue = queueDirectory(options);
  const path = /^unix:(\/\S+)$/.exec(listen)?.[1];
  if (path === undefined) {
    throw permanent(
      'usage',
      `--listen for serve-lmtp must be unix:${queue}/DIR/SOCKET, not ${JSON.stringify(listen)}: on inet every ` +
        'local user could hand mail to the service',
    );
  }
  const dir = dirname(path);
  const inQueue = relative(queue, dir);
  if (dirname(dir) !== queue || QUEUE_SUBDIRS.has(inQueue) || /[\s${}]/.test(path)) {
    throw permanent(
      'usage',
      `--listen ${listen}: the socket must be in a directory of its own directly under Postfix's queue_directory ` +
        `${queue} (e.g. unix:${queue}/pgpipe/lmtp), where the chrooted lmtp client can reach it`,
    );
  }
  return { path, dir, relative: relative(queue, path) };
}

function checkServeAddress(what: string, value: string, loopbackOnly: boolean): string {
  if (!LMTP.test(value)) throw permanent('usage', `${what} must be unix:/path or inet:host:port, not ${value}`);
  if (loopbackOnly && !LOOPBACK.test(value)) {
    throw permanent(
      'usage',
      `${what} must be inet:127.x.x.x:PORT, not ${JSON.stringify(value)}: the re-injection smtpd trusts its ` +
        'clients and pgpipe serve relays what it is given, so neither may be reachable from the network',
    );
  }
  return value;
}

/**
 * Delivery proxy: local(8)/virtual routing hands each mailbox to a dedicated lmtp(8) service that talks to pgpipe
 * serve, which encrypts and passes each recipient's copy to Dovecot, relaying Dovecot's per-recipient replies.
 */
function serveLmtpCommands(options: WiringOptions, postconf: readonly string[]): string[][] {
  const service = masterCfWord('--service', options.service);
  const user = masterCfWord('--user', options.user);
  const group = masterCfWord('postfix group', options.postfixGroup ?? 'postfix');
  const socket = serveSocket(options);
  checkServeAddress('--next', serveNext(options), false);
  if (options.databaseUrl !== undefined) checkServeDatabaseUrl(options.databaseUrl);
  return [
    // setgid: the socket pgpipe creates gets group postfix; 2750: only Postfix (group) and pgpipe (owner) get in.
    ['install', '-d', '-o', user, '-g', group, '-m', '2750', socket.dir],
    // chroot y as Debian's own lmtp line; the relative path below resolves inside the chroot and outside it.
    [...postconf, '-M', `${service}/unix=${service} unix - - y - - lmtp`],
    // XFORWARD IDENT carries the queue id, so pgpipe's log line names the message as Postfix's does.
    [...postconf, '-P', `${service}/unix/lmtp_send_xforward_command=yes`],
    // Postfix must wait for pgpipe's own deadline (deadline, 120 s) to answer 4xx; a timeout here defers the
    // message after pgpipe may have delivered it (a duplicate).
    [...postconf, '-P', `${service}/unix/lmtp_data_done_timeout=${options.timeLimit}`],
    [...postconf, '-e', `${options.transportSetting} = ${service}:unix:${socket.relative}`],
  ];
}

/**
 * After-queue content filter (Postfix's FILTER_README, "advanced"): a global content_filter sends all mail (smtpd,
 * pickup, bounces) over SMTP to pgpipe serve, which hands the result to a re-injection smtpd that filters nothing.
 */
function serveSmtpCommands(options: WiringOptions, postconf: readonly string[]): string[][] {
  const service = masterCfWord('--service', options.service);
  const listen = LOOPBACK.exec(checkServeAddress('--listen', serveListen(options), true)) ?? [];
  const next = LOOPBACK.exec(checkServeAddress('--next', serveNext(options), true)) ?? [];
  if (listen[0] === next[0]) throw permanent('usage', '--listen and --next must differ (a loop)');
  if (options.databaseUrl !== undefined) checkServeDatabaseUrl(options.databaseUrl);
  const reinject = `${next[1]}:${next[2]}`;
  const client = (setting: string): string[] => [...postconf, '-P', `${service}/unix/${setting}`];
  const server = (setting: string): string[] => [...postconf, '-P', `${reinject}/inet/${setting}`];
  return [
    [...postconf, '-M', `${service}/unix=${service} unix - - n - ${options.maxProcesses} smtp`],
    client('smtp_send_xforward_command=yes'), // the queue id (IDENT) and the original client reach pgpipe's log
    client('disable_mime_output_conversion=yes'), // 8-bit mail as it came: no re-encoding that breaks signatures
    client('smtp_generic_maps='),
    client('smtp_tls_security_level=none'), // loopback; no STARTTLS with pgpipe's self-signed certificate
    client(`smtp_data_done_timeout=${options.timeLimit}`), // above pgpipe's deadline, as for serve-lmtp
    [...postconf, '-M', `${reinject}/inet=${reinject} inet n - n - - smtpd`],
    server('content_filter='), // never back into pgpipe: a loop
    // Done before the filter already: recipient checks, header/body checks, milters (OpenDKIM verified and signed
    // on the way in; signing again would sign the ciphertext), and address mappings: canonical, virtual aliases and
    // automatic BCC ran in the first cleanup, so pgpipe saw the final recipients (a virtual alias expanded only
    // after pgpipe could reach a keyed mailbox as plaintext) and nothing is BCC'd twice.
    server('receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters,no_address_mappings'),
    server('smtpd_milters='),
    server('smtpd_helo_restrictions='),
    server('smtpd_client_restrictions='),
    server('smtpd_sender_restrictions='),
    server('smtpd_relay_restrictions='),
    server('smtpd_data_restrictions='),
    server('smtpd_recipient_restrictions=permit_mynetworks,reject'),
    server('mynetworks=127.0.0.0/8'),
    server('smtpd_authorized_xforward_hosts=127.0.0.0/8'),
    server('smtpd_tls_security_level=none'),
    [...postconf, '-e', `content_filter = ${service}:[${listen[1]}]:${listen[2]}`],
    [...postconf, '-e', `internal_mail_filter_classes = ${withWord(options.internalMailFilterClasses, 'bounce')}`],
    [...postconf, '-e', `header_checks = ${withWord(options.headerChecks, `regexp:${serveFilterPath(options)}`)}`],
  ];
}

const serveFilterPath = (options: WiringOptions): string =>
  `${options.postfixConfig.replace(/\/+$/, '')}/${SERVE_FILTER_FILE}`;

/** A Postfix list value with `word` added at its end, unless it is there already (a second --apply). */
function withWord(list: string | undefined, word: string): string {
  const words = (list ?? '').split(/[\s,]+/).filter((w) => w !== '');
  return words.includes(word) ? words.join(', ') : [...words, word].join(', ');
}

/** pgpipe serve reads database_url from pgpipe.conf (root:pgpipe 0640), not from world-readable master.cf. */
function checkServeDatabaseUrl(url: string): void {
  try {
    new URL(url);
  } catch {
    throw permanent('usage', `--database-url is not a URL: ${JSON.stringify(url)}`);
  }
}

/**
 * What the service side needs, as shell comments (so the printed output still runs as a script): the pgpipe.conf
 * lines `pgpipe serve` reads, Dovecot's listener for serve-lmtp, and the order to switch on.
 */
export function serveNotes(options: WiringOptions): string[] {
  if (options.mode !== 'serve-lmtp' && options.mode !== 'serve-smtp') return [];
  const database = options.databaseUrl ?? `postgresql:///mailstore_db?host=/var/run/postgresql&user=${options.user}`;
  const lines = [
    '# /etc/pgpipe/pgpipe.conf (pgpipe serve needs PostgreSQL; the file is root:pgpipe 0640):',
    `#   serve_protocol = ${options.mode === 'serve-lmtp' ? 'lmtp' : 'smtp'}`,
    `#   serve_listen = ${serveListen(options)}`,
    `#   serve_next = ${serveNext(options)}`,
    `#   database_url = ${database}`,
  ];
  if (options.mode === 'serve-lmtp') {
    // A relative unix_listener name is in Dovecot's base_dir (/run/dovecot); any other path is written out.
    const next = serveNext(options);
    const path = /^unix:(\S+)$/.exec(next)?.[1];
    const name = path?.startsWith('/run/dovecot/') === true ? path.slice('/run/dovecot/'.length) : path;
    lines.push(
      '# /etc/dovecot/dovecot.conf, in "service lmtp { }" (as for --mode deliver; postfix-snippets/dovecot.conf):',
      name === undefined
        ? `#   an inet_listener for ${next}: every local user can store mail through it; prefer a unix_listener`
        : `#   unix_listener ${name} { user = ${options.user}  group = ${options.user}  mode = 0600 }`,
    );
    const dir = serveSocket(options).dir;
    if (dir !== `${DEFAULT_QUEUE_DIRECTORY}/pgpipe`) {
      // packaging/systemd/pgpipe-serve.service (ProtectSystem=strict) may write only the default directory.
      lines.push(`# pgpipe-serve.service: systemctl edit pgpipe-serve, add [Service] ReadWritePaths=${dir}`);
    }
  } else {
    lines.push(
      `# Any local user can connect to ${serveNext(options).slice(5)} and skip pgpipe: limit it to ${options.user} ` +
        '(README "Operating pgpipe serve", an nftables owner match)',
    );
  }
  // Postfix defers (never bounces) while the service is not there yet, but starting it first avoids even that.
  const dovecot = options.mode === 'serve-lmtp' ? 'systemctl reload dovecot; ' : '';
  lines.push(`# before reloading Postfix: ${dovecot}systemctl enable --now pgpipe-serve; pgpipe doctor`);
  return lines;
}
