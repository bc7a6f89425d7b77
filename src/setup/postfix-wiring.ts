// The documented Postfix wiring as postconf commands: one argv per line, for `pgpipe setup postfix`. Pure.
// postfix-snippets/ holds the readable form of the same lines (test/setup/ proves the two agree).
import { permanent } from '../errors.js';

export type WiringMode = 'filter' | 'deliver';

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
}

export const DEFAULT_SERVICE: Record<WiringMode, string> = { filter: 'pgpipe', deliver: 'pgpipe-deliver' };
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
