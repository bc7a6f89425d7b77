// Every setting, once: its flag, environment variable, config-file key, schema and help text.
// Precedence is flag > environment > config file > default (see load-config.ts). No I/O here.
import { z } from 'zod';

const bool = z.preprocess(
  (value) => {
    if (typeof value === 'boolean') return value;
    const text = String(value).trim().toLowerCase();
    if (['yes', 'true', 'on', '1'].includes(text)) return true;
    if (['no', 'false', 'off', '0'].includes(text)) return false;
    return value;
  },
  z.boolean({ error: 'expected yes or no' }),
);

const list = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(/\s+/).filter((word) => word.length > 0) : value),
  z.array(z.string()),
);

// Like Postfix's mydestination: names separated by spaces or commas. Only plain domain names: an '@' or a pattern
// here would be a mistake the bare-alias rule must not guess about.
const domains = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(/[\s,]+/).filter((word) => word.length > 0) : value),
  z.array(z.string().regex(/^[^\s@,*%]+$/, 'expected domain names separated by spaces or commas')),
);

/** A listener or next hop, in the forms Postfix's lmtp(8) takes. */
const ADDRESS = /^(unix:\/\S+|inet:[^\s:]+:\d{1,5})$/;

const count = (min: number) => z.coerce.number({ error: 'expected a number' }).int().min(min);

export interface Setting {
  /** Property name in Config. */
  readonly key: string;
  /** Commander flag spelling, e.g. '--db <url>' or '--[no-]spam-check'. */
  readonly flag: string;
  readonly env: string;
  /** Key in /etc/pgpipe/pgpipe.conf. */
  readonly file: string;
  readonly schema: z.ZodType;
  /**
   * Which commands take it as a flag: every command, `filter` (and `deliver`, `serve`), `deliver` (and `serve`), or
   * only `serve`.
   */
  readonly scope: 'common' | 'filter' | 'deliver' | 'serve';
  readonly description: string;
  /** Shown in help and the README; the schema holds the real default. */
  readonly defaultText?: string;
}

const setting = <const S extends Setting>(s: S): S => s;

export const SETTINGS = [
  setting({
    key: 'databaseUrl',
    flag: '--db <url>',
    env: 'PGPIPE_DATABASE_URL',
    file: 'database_url',
    scope: 'common',
    schema: z.string().min(1).optional(),
    description: 'PostgreSQL URL, e.g. postgresql:///mailstore_db?host=/var/run/postgresql (unset: the embedded store)',
  }),
  setting({
    key: 'dataDir',
    flag: '--data-dir <dir>',
    env: 'PGPIPE_DATA_DIR',
    file: 'data_dir',
    scope: 'common',
    schema: z.string().min(1).optional(),
    description: 'directory of the embedded store used when no database URL is set',
    defaultText: '$XDG_DATA_HOME/pgpipe/db or ~/.local/share/pgpipe/db',
  }),
  setting({
    key: 'dbTimeoutMs',
    flag: '--db-timeout <ms>',
    env: 'PGPIPE_DB_TIMEOUT',
    file: 'db_timeout',
    scope: 'common',
    schema: count(1).default(10_000),
    description: 'connect and statement timeout for PostgreSQL, in milliseconds',
    defaultText: '10000',
  }),
  setting({
    key: 'recipientDelimiter',
    flag: '--recipient-delimiter <chars>',
    env: 'PGPIPE_RECIPIENT_DELIMITER',
    file: 'recipient_delimiter',
    scope: 'common',
    schema: z.string().default('+'),
    description: 'characters that start an address extension (like Postfix recipient_delimiter); empty disables',
    defaultText: '+',
  }),
  setting({
    key: 'localDomains',
    flag: '--local-domains <domains>',
    env: 'PGPIPE_LOCAL_DOMAINS',
    file: 'local_domains',
    scope: 'common',
    schema: domains.default([]),
    description:
      "the server's own domains besides those of the users rows, where a bare local-part alias applies " +
      '(space- or comma-separated, like mydestination)',
  }),
  setting({
    key: 'protectHeaders',
    flag: '--[no-]protect-headers',
    env: 'PGPIPE_PROTECT_HEADERS',
    file: 'protect_headers',
    scope: 'common',
    schema: bool.default(true),
    description: 'copy From/To/Subject/... into the encrypted part (protected-headers="v1"; hp="cipher")',
    defaultText: 'yes',
  }),
  setting({
    key: 'subjectPlaceholder',
    flag: '--subject-placeholder <text>',
    env: 'PGPIPE_SUBJECT_PLACEHOLDER',
    file: 'subject_placeholder',
    scope: 'common',
    schema: z
      .string()
      .regex(/^[^\r\n\0]*$/, 'must be one line')
      .default('[...]'),
    description: 'outer Subject of encrypted mail when headers are protected',
    defaultText: '[...]',
  }),
  setting({
    key: 'keepSubject',
    flag: '--[no-]keep-subject',
    env: 'PGPIPE_KEEP_SUBJECT',
    file: 'keep_subject',
    scope: 'common',
    schema: bool.default(false),
    description: 'leave the real Subject visible outside the encryption',
    defaultText: 'no',
  }),
  // ---- filter (the Postfix pipe transport) ----
  setting({
    key: 'encryptMode',
    flag: '--encrypt-mode <mode>',
    env: 'PGPIPE_ENCRYPT_MODE',
    file: 'encrypt_mode',
    scope: 'filter',
    // gpgit's third mode, inline-or-plain, would hand a keyed recipient plaintext: only `pgpipe encrypt` takes it.
    schema: z
      .enum(['pgpmime', 'prefer-inline'], {
        error: "expected pgpmime or prefer-inline (inline-or-plain only on pgpipe encrypt's command line)",
      })
      .default('pgpmime'),
    description:
      'pgpmime (RFC 3156, protected Subject), or prefer-inline: inline PGP for a message that is one ' +
      'text/plain part (its Subject stays visible), PGP/MIME for the rest',
    defaultText: 'pgpmime',
  }),
  setting({
    key: 'inlineFlatten',
    flag: '--[no-]inline-flatten',
    env: 'PGPIPE_INLINE_FLATTEN',
    file: 'inline_flatten',
    scope: 'filter',
    schema: bool.default(false),
    description:
      'with prefer-inline: a multipart/alternative of a text/plain part (10+ characters) and a text/html ' +
      'part loses the HTML and goes inline',
    defaultText: 'no',
  }),
  setting({
    key: 'sendmailPath',
    flag: '--sendmail <path>',
    env: 'PGPIPE_SENDMAIL',
    file: 'sendmail',
    scope: 'filter',
    schema: z.string().min(1).default('/usr/sbin/sendmail'),
    description: 'sendmail used to re-inject mail',
    defaultText: '/usr/sbin/sendmail',
  }),
  setting({
    key: 'spamcPath',
    flag: '--spamc <path>',
    env: 'PGPIPE_SPAMC',
    file: 'spamc',
    scope: 'filter',
    schema: z.string().min(1).default('/usr/bin/spamc'),
    description: 'spamc client used for the spam check',
    defaultText: '/usr/bin/spamc',
  }),
  setting({
    key: 'spamcArgs',
    flag: '--spamc-arg <arg...>',
    env: 'PGPIPE_SPAMC_ARGS',
    file: 'spamc_args',
    scope: 'filter',
    schema: list.default([]),
    description: 'extra spamc arguments (repeat the flag; space-separated in env/file), e.g. -d 127.0.0.1',
  }),
  setting({
    key: 'spamCheck',
    flag: '--[no-]spam-check',
    env: 'PGPIPE_SPAM_CHECK',
    file: 'spam_check',
    scope: 'filter',
    schema: bool.default(true),
    description: 'run spamc before encrypting',
    defaultText: 'yes',
  }),
  setting({
    key: 'spamdDown',
    flag: '--spamd-down <policy>',
    env: 'PGPIPE_SPAMD_DOWN',
    file: 'spamd_down',
    scope: 'filter',
    schema: z.enum(['deliver', 'defer']).default('deliver'),
    description: 'when spamd cannot scan: deliver unscanned (forged X-Spam-* removed) or defer',
    defaultText: 'deliver',
  }),
  setting({
    key: 'missingKey',
    flag: '--missing-key <policy>',
    env: 'PGPIPE_MISSING_KEY',
    file: 'missing_key',
    scope: 'filter',
    schema: z.enum(['deliver', 'defer', 'reject']).default('deliver'),
    description: 'recipient without a key: deliver as sent, defer, or reject',
    defaultText: 'deliver',
  }),
  setting({
    key: 'unusableKey',
    flag: '--unusable-key <policy>',
    env: 'PGPIPE_UNUSABLE_KEY',
    file: 'unusable_key',
    scope: 'filter',
    schema: z.enum(['defer', 'deliver', 'reject']).default('defer'),
    description: 'recipient whose stored key is unusable: defer, deliver as sent, or reject',
    defaultText: 'defer',
  }),
  setting({
    key: 'messageSizeLimit',
    flag: '--message-size-limit <bytes>',
    env: 'PGPIPE_MESSAGE_SIZE_LIMIT',
    file: 'message_size_limit',
    scope: 'filter',
    schema: count(0).default(10_240_000),
    description:
      "Postfix's message_size_limit; encrypted output larger than this is decided by --oversize (0: no limit)",
    defaultText: '10240000',
  }),
  setting({
    key: 'oversize',
    flag: '--oversize <policy>',
    env: 'PGPIPE_OVERSIZE',
    file: 'oversize',
    scope: 'filter',
    schema: z.enum(['reject', 'defer']).default('reject'),
    description: 'encrypted result over message_size_limit: reject (5.3.4 bounce) or defer',
    defaultText: 'reject',
  }),
  setting({
    key: 'deadlineMs',
    flag: '--deadline <ms>',
    env: 'PGPIPE_DEADLINE',
    file: 'deadline',
    scope: 'filter',
    schema: count(1).default(120_000),
    description: "give up with 75 (defer) after this long; keep it below Postfix's pgpipe_time_limit",
    defaultText: '120000',
  }),
  setting({
    key: 'log',
    flag: '--log <target>',
    env: 'PGPIPE_LOG',
    file: 'log',
    scope: 'filter',
    schema: z.enum(['stderr', 'syslog', 'none']).default('stderr'),
    description: 'where the one-line-per-message log goes',
    defaultText: 'stderr',
  }),
  // ---- deliver (final delivery to Dovecot over LMTP); it also takes every filter setting above ----
  setting({
    key: 'lmtp',
    flag: '--lmtp <addr>',
    env: 'PGPIPE_LMTP',
    file: 'lmtp',
    scope: 'deliver',
    schema: z.string().regex(ADDRESS, 'expected unix:/path or inet:host:port').optional(),
    description: "deliver: Dovecot's LMTP listener, unix:/path or inet:host:port (postfix-snippets/dovecot.conf)",
  }),
  setting({
    key: 'deliverSpamCheck',
    flag: '--deliver-spam-check <when>',
    env: 'PGPIPE_DELIVER_SPAM_CHECK',
    file: 'deliver_spam_check',
    scope: 'deliver',
    schema: z.enum(['always', 'never', 'unless-scanned']).default('unless-scanned'),
    description:
      'deliver: run spamc always, never, or unless pgpipe filter (same Unix user) already scanned it ' +
      '(spam_check = no turns it off everywhere)',
    defaultText: 'unless-scanned',
  }),
  // ---- serve (the resident LMTP/SMTP service); it also takes every filter and deliver setting above ----
  setting({
    key: 'serveProtocol',
    flag: '--protocol <protocol>',
    env: 'PGPIPE_SERVE_PROTOCOL',
    file: 'serve_protocol',
    scope: 'serve',
    schema: z.enum(['lmtp', 'smtp']).default('lmtp'),
    description:
      'serve: lmtp (delivery proxy in front of Dovecot, per-recipient replies) or smtp (after-queue content ' +
      'filter that hands mail back to a re-injection smtpd)',
    defaultText: 'lmtp',
  }),
  setting({
    key: 'serveListen',
    flag: '--listen <addr>',
    env: 'PGPIPE_SERVE_LISTEN',
    file: 'serve_listen',
    scope: 'serve',
    schema: z.string().regex(ADDRESS, 'expected unix:/path or inet:host:port').optional(),
    description: 'serve: where Postfix connects, unix:/path or inet:host:port',
  }),
  setting({
    key: 'serveNext',
    flag: '--next <addr>',
    env: 'PGPIPE_SERVE_NEXT',
    file: 'serve_next',
    scope: 'serve',
    schema: z.string().regex(ADDRESS, 'expected unix:/path or inet:host:port').optional(),
    description:
      "serve: the next hop, Dovecot's LMTP (--protocol lmtp) or the re-injection smtpd (--protocol smtp), " +
      'unix:/path or inet:host:port',
  }),
  setting({
    key: 'serveMaxClients',
    flag: '--max-clients <n>',
    env: 'PGPIPE_SERVE_MAX_CLIENTS',
    file: 'serve_max_clients',
    scope: 'serve',
    schema: count(1).default(100),
    description: 'serve: connections at once; one more is answered 421 4.3.2 (Postfix retries)',
    defaultText: '100',
  }),
  setting({
    key: 'serveMemoryLimit',
    flag: '--memory-limit <bytes>',
    env: 'PGPIPE_SERVE_MEMORY_LIMIT',
    file: 'serve_memory_limit',
    scope: 'serve',
    schema: count(1_048_576).default(268_435_456),
    description:
      'serve: message bytes held at once (received and being encrypted) by all connections; a message that ' +
      'would go over it is answered 452 4.3.1 (Postfix retries)',
    defaultText: '268435456',
  }),
  setting({
    key: 'serveGraceMs',
    flag: '--grace <ms>',
    env: 'PGPIPE_SERVE_GRACE',
    file: 'serve_grace',
    scope: 'serve',
    schema: count(0).default(30_000),
    description: 'serve: on SIGTERM, how long running transactions may take before the rest get 421',
    defaultText: '30000',
  }),
  setting({
    key: 'serveKeyCacheMs',
    flag: '--key-cache <ms>',
    env: 'PGPIPE_SERVE_KEY_CACHE',
    file: 'serve_key_cache',
    scope: 'serve',
    schema: count(0).default(60_000),
    description:
      'serve: how long a parsed key text is reused (the row is read for every message, so a changed key ' +
      'applies at once; this only bounds how late an expiry date is noticed); 0 disables',
    defaultText: '60000',
  }),
  setting({
    key: 'serveMetrics',
    flag: '--metrics <addr>',
    env: 'PGPIPE_SERVE_METRICS',
    file: 'serve_metrics',
    scope: 'serve',
    schema: z
      .string()
      .regex(
        /^inet:(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost):\d{1,5}$/,
        'expected inet:127.0.0.1:PORT (loopback only)',
      )
      .optional(),
    description: 'serve: Prometheus metrics over HTTP on a loopback address, e.g. inet:127.0.0.1:9129 (unset: none)',
  }),
] as const satisfies readonly Setting[];
