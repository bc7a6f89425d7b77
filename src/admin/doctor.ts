// `pgpipe doctor`: checks what the filter needs — valid configuration, a reachable store with the tutorial's
// tables, spamd (`spamc -K`), an executable sendmail, the filter's Unix user able to read the tables (by running
// `pgpipe db probe` as that user) — and summarises key health; with serve_listen set, that `pgpipe serve` answers
// there (and its metrics). Each failure says what is wrong and how to fix it.
import type { Config } from '../config/load-config.js';
import type { Db } from '../store/types.js';
import { runCheckKeys } from './check-keys.js';
import { printable } from './format-table.js';
import { addressOptionsFrom } from '../store/address-match.js';
import { listAliases } from '../store/aliases.js';
import { expandRecipients, MAX_ALIAS_HOPS } from '../store/resolve-recipients.js';
import { checkColumns, missingTables, ping } from '../store/tutorial-schema.js';
import { userDomains } from '../store/users.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** How to fix it; null when nothing is to be done. */
  readonly fix: string | null;
}

export interface DoctorResult {
  readonly checks: readonly DoctorCheck[];
  /** Number of 'fail' checks; the CLI exits 1 when non-zero. */
  readonly failures: number;
}

export interface ExecResult {
  /** Exit status; null when the program could not be started or was killed. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Why it could not run (ENOENT, timeout...), when code is null. */
  readonly error: string | null;
}

export interface DoctorDeps {
  /** The merged configuration; throws config.invalid. */
  readonly config: () => Config;
  readonly openDb: (config: Config) => Promise<Db>;
  readonly exec: (
    file: string,
    args: readonly string[],
    options?: { env?: Record<string, string> },
  ) => Promise<ExecResult>;
  readonly isExecutable: (path: string) => Promise<boolean>;
  readonly now: () => Date;
  readonly isRoot: boolean;
  readonly currentUser: string;
  /** argv that starts this same pgpipe, e.g. [process.execPath, '/usr/lib/pgpipe/bin/pgpipe']. */
  readonly self: readonly string[];
  /** Where the embedded store lives for a config (shown in messages). */
  readonly describeStore: (config: Config) => string;
  /** One LMTP/SMTP session with a listener: greeting, LHLO/EHLO, QUIT. Throws with the reason it failed. */
  readonly probeService: (address: string, protocol: 'lmtp' | 'smtp') => Promise<ServiceProbe>;
  /** GET http://HOST:PORT/PATH of an `inet:HOST:PORT` address. Throws with the reason it failed. */
  readonly httpGet: (address: string, path: string) => Promise<{ status: number; body: string }>;
}

export interface ServiceProbe {
  /** The greeting's text, e.g. `220 mx.example.org LMTP pgpipe`. */
  readonly greeting: string;
  /** The last line of the LHLO/EHLO reply, e.g. `250 SMTPUTF8`; '' when the greeting was not 220. */
  readonly hello: string;
  /** From connecting to the reply to QUIT. */
  readonly ms: number;
}

export interface DoctorOptions {
  /** The Unix user master.cf runs `pgpipe filter` as (pipe(8) user=). */
  readonly filterUser: string;
  /** --config as given, passed on to the probe. */
  readonly configPath?: string | undefined;
}

export async function runDoctor(options: DoctorOptions, deps: DoctorDeps): Promise<DoctorResult> {
  const checks: DoctorCheck[] = [];
  const add = (name: string, status: CheckStatus, detail: string, fix: string | null = null): void => {
    checks.push({ name, status, detail, fix });
  };

  let config: Config;
  try {
    config = deps.config();
    add('config', 'ok', 'configuration is valid');
  } catch (error) {
    add(
      'config',
      'fail',
      message(error),
      'correct that setting in /etc/pgpipe/pgpipe.conf (or the PGPIPE_* variable / flag named)',
    );
    return finish(checks);
  }

  const store = deps.describeStore(config);
  let tablesOk = false;
  let db: Db | null = null;
  try {
    db = await deps.openDb(config);
    await ping(db);
    add('database', 'ok', `reachable: ${store}`);
  } catch (error) {
    add(
      'database',
      'fail',
      `${store}: ${message(error)}`,
      config.databaseUrl === undefined
        ? 'check that the data dir is writable and no other pgpipe process holds it (data_dir / PGPIPE_DATA_DIR)'
        : 'start PostgreSQL and check database_url (PGPIPE_DATABASE_URL): socket dir, database name, user',
    );
  }
  if (db !== null) {
    try {
      const missing = await missingTables(db);
      if (missing.length > 0) {
        add(
          'tables',
          'fail',
          `table ${missing.join(' and ')} missing`,
          "run pgpipe db init (creates the tutorial's tables)",
        );
      } else {
        await checkColumns(db);
        tablesOk = true;
        add('tables', 'ok', "users and aliases present with the tutorial's columns");
      }
    } catch (error) {
      add(
        'tables',
        'fail',
        message(error),
        "compare with the tutorial's CREATE TABLE users/aliases; pgpipe db init creates them",
      );
    }
    if (tablesOk) await keyHealth(db, deps.now, add);
    if (tablesOk) await aliasHealth(db, config, add);
    await db.close();
  } else {
    add('tables', 'skip', 'database not reachable');
  }

  await checkSpamd(config, deps, add);
  await checkSendmail(config, deps, add);
  await checkFilterUser(options, config, deps, add);
  await checkService(config, deps, add);
  return finish(checks);
}

const SERVICE_FIX =
  'start it: systemctl enable --now pgpipe-serve; see systemctl status pgpipe-serve and journalctl -u pgpipe-serve';

/**
 * A running `pgpipe serve` where serve_listen says (only when it is set): it greets 220 in the configured protocol
 * and answers LHLO/EHLO, as Postfix's lmtp/smtp client will need; then its metrics, when serve_metrics is set.
 */
async function checkService(config: Config, deps: DoctorDeps, add: AddFn): Promise<void> {
  const listen = config.serveListen;
  if (listen === undefined) return;
  await checkListener(listen, config.serveProtocol, deps, add);
  if (config.serveNext !== undefined) await checkNextHop(config.serveNext, config.serveProtocol, deps, add);
  if (config.serveMetrics !== undefined) await checkMetrics(config.serveMetrics, deps, add);
}

async function checkListener(listen: string, protocol: 'lmtp' | 'smtp', deps: DoctorDeps, add: AddFn): Promise<void> {
  const word = protocol === 'lmtp' ? 'LMTP' : 'ESMTP';
  let probe: ServiceProbe;
  try {
    probe = await deps.probeService(listen, protocol);
  } catch (error) {
    const why = message(error);
    const fix = /EACCES/.test(why) ? `run pgpipe doctor as root (the socket is for Postfix and pgpipe)` : SERVICE_FIX;
    add('serve', 'fail', `pgpipe serve does not answer on ${listen}: ${why}`, fix);
    return;
  }
  const greeting = probe.greeting;
  if (!greeting.startsWith('220')) {
    add('serve', 'fail', `${listen} greets "${greeting}", not 220: Postfix gets no service there`, SERVICE_FIX);
  } else if (!new RegExp(`^220[ -]\\S+ ${word}\\b`).test(greeting)) {
    const other = protocol === 'lmtp' ? 'smtp' : 'lmtp';
    add(
      'serve',
      'fail',
      `${listen} greets "${greeting}", not ${word}: serve_protocol says ${protocol}`,
      `make serve_protocol and the Postfix wiring agree (pgpipe setup postfix --mode serve-${protocol}, or ` +
        `serve_protocol = ${other}), then systemctl restart pgpipe-serve`,
    );
  } else if (!probe.hello.startsWith('250')) {
    const verb = protocol === 'lmtp' ? 'LHLO' : 'EHLO';
    add('serve', 'fail', `${listen} answers ${verb} with "${probe.hello}"`, SERVICE_FIX);
  } else if (!/\bpgpipe\b/.test(greeting)) {
    add(
      'serve',
      'warn',
      `${listen} answers ${word}, but "${greeting}" is not pgpipe's greeting: is another server listening there?`,
      'compare serve_listen with what listens there (ss -ltnpx)',
    );
  } else {
    add(
      'serve',
      'ok',
      `${listen} answers: "${greeting}", ${word === 'LMTP' ? 'LHLO' : 'EHLO'} and QUIT in ${probe.ms} ms`,
    );
  }
}

/**
 * Where serve hands mail on: Dovecot's LMTP listener, or the re-injection smtpd. While it does not answer, serve
 * defers every message (nothing is lost, nothing arrives). As root this shows the listener is there and speaks the
 * protocol, not that the pgpipe user may connect.
 */
async function checkNextHop(next: string, protocol: 'lmtp' | 'smtp', deps: DoctorDeps, add: AddFn): Promise<void> {
  // Dovecot's LMTP greeting does not name the protocol ("220 mx Dovecot (Debian) ready."); the hello tells: an SMTP
  // server refuses LHLO, an LMTP server EHLO.
  const verb = protocol === 'lmtp' ? 'LHLO' : 'EHLO';
  const fix =
    protocol === 'lmtp'
      ? 'give Dovecot the listener serve_next names (postfix-snippets/dovecot.conf: unix_listener lmtp-pgpipe, user ' +
        'pgpipe, mode 0600), then systemctl reload dovecot'
      : 'add the re-injection smtpd serve_next names (pgpipe setup postfix --mode serve-smtp), then postfix reload';
  try {
    const probe = await deps.probeService(next, protocol);
    if (!probe.greeting.startsWith('220')) {
      add('serve next hop', 'fail', `${next} greets "${probe.greeting}": serve defers all mail`, fix);
    } else if (!probe.hello.startsWith('250')) {
      add('serve next hop', 'fail', `${next} answers ${verb} with "${probe.hello}": serve defers all mail`, fix);
    } else {
      add('serve next hop', 'ok', `${next} answers ${verb} in ${probe.ms} ms: "${probe.greeting}"`);
    }
  } catch (error) {
    add('serve next hop', 'fail', `${next} does not answer: ${message(error)}; serve defers all mail`, fix);
  }
}

/** The metrics pgpipe serve exposes that say whether mail is waiting: transactions in flight and deferrals. */
async function checkMetrics(address: string, deps: DoctorDeps, add: AddFn): Promise<void> {
  let response: { status: number; body: string };
  try {
    response = await deps.httpGet(address, '/metrics');
  } catch (error) {
    add('metrics', 'fail', `no metrics at ${address}/metrics: ${message(error)}`, SERVICE_FIX);
    return;
  }
  if (response.status !== 200) {
    add('metrics', 'fail', `${address}/metrics answered HTTP ${response.status}`, SERVICE_FIX);
    return;
  }
  const inFlight = sampleSum(response.body, 'pgpipe_transactions_in_flight');
  const deferred = sampleSum(response.body, 'pgpipe_messages_total', /outcome="deferred"/);
  if (inFlight === null || deferred === null) {
    add('metrics', 'warn', `${address}/metrics has no pgpipe_transactions_in_flight or pgpipe_messages_total`, null);
    return;
  }
  add('metrics', 'ok', `${inFlight} transactions in flight, ${deferred} messages deferred since start`);
}

/** The sum of a metric's samples (those whose labels match), in Prometheus text format; null when it is absent. */
function sampleSum(text: string, name: string, labels?: RegExp): number | null {
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match?.[1] !== name) continue;
    sum ??= 0;
    if (labels !== undefined && !labels.test(match[2] ?? '')) continue;
    sum += Number(match[3]);
  }
  return sum;
}

async function keyHealth(db: Db, now: () => Date, add: AddFn): Promise<void> {
  try {
    const result = await runCheckKeys({}, { db, now });
    if (result.attention === 0) add('keys', 'ok', `${result.keys} keys of ${result.users} users are fine for 30 days`);
    else
      add(
        'keys',
        'warn',
        `${result.attention} of ${result.entries.length} keys need attention`,
        'run pgpipe key check for the list',
      );
  } catch (error) {
    add('keys', 'warn', `could not check keys: ${message(error)}`, 'run pgpipe key check');
  }
}

/**
 * Every alias as the filter's resolver sees it (a bare local part in each local domain): chains it would hold as
 * too long (mail waits until it bounces), loops, and aliases whose members differ (sent to each member on its own).
 */
async function aliasHealth(db: Db, config: Config, add: AddFn): Promise<void> {
  try {
    const addressing = addressOptionsFrom(config);
    const domains = [...new Set([...(await userDomains(db)), ...config.localDomains.map((d) => d.toLowerCase())])];
    const names = [...new Set((await listAliases(db)).map((r) => r.alias.toLowerCase()))];
    if (names.length === 0) return; // nothing to report
    const probes = names.flatMap((name) => (name.includes('@') ? [name] : domains.map((d) => `${name}@${d}`)));
    const expansions = await expandRecipients(db, probes, addressing);
    const long = expansions.filter((e) => e.record.unresolved !== undefined).map((e) => e.record.address);
    const loops = expansions.filter((e) => e.loop).map((e) => e.record.address);
    const mixed = expansions.filter((e) => e.ends.some(hasKeyText) && !e.ends.every(hasKeyText)).length;
    const where = domains.length === 0 ? 'no local domain yet' : `local domains ${domains.join(', ')}`;
    const mixedText = mixed > 0 ? `; ${mixed} mix members with and without a key (each member gets its own copy)` : '';
    const summary = `${names.length} aliases, ${where}${mixedText}`;
    if (long.length > 0) {
      add(
        'aliases',
        'fail',
        `mail to ${shortList(long)} is held: alias chain longer than ${MAX_ALIAS_HOPS} hops`,
        'point the alias at its final address (pgpipe alias remove / alias add)',
      );
    } else if (loops.length > 0) {
      add(
        'aliases',
        'warn',
        `${shortList(loops)} loop back to themselves; ${summary}`,
        'remove the row that closes the loop (pgpipe alias list)',
      );
    } else {
      add('aliases', 'ok', summary);
    }
  } catch (error) {
    add('aliases', 'warn', `could not check aliases: ${message(error)}`, 'run pgpipe alias list');
  }
}

// A stored key text, usable or not: enough to tell members that get ciphertext from those that get the message as sent.
const hasKeyText = (end: { readonly pgpkey: string | null }): boolean => (end.pgpkey ?? '').trim() !== '';

const shortList = (items: readonly string[]): string =>
  `${items.slice(0, 3).join(', ')}${items.length > 3 ? ` and ${items.length - 3} more` : ''}`;

async function checkSpamd(config: Config, deps: DoctorDeps, add: AddFn): Promise<void> {
  if (!config.spamCheck) {
    add('spamd', 'skip', 'spam check disabled (spam_check = no)');
    return;
  }
  const args = [...config.spamcArgs, '-K'];
  const result = await deps.exec(config.spamcPath, args);
  const shown = `${config.spamcPath} ${args.join(' ')}`;
  if (result.code === 0) {
    add('spamd', 'ok', `${shown} answered`);
  } else if (result.code === null) {
    add(
      'spamd',
      'fail',
      `cannot run ${config.spamcPath}: ${result.error ?? 'failed'}`,
      'install spamc (apt-get install spamc) or set spamc = PATH, or spam_check = no',
    );
  } else {
    const said = firstLine(result.stderr) || firstLine(result.stdout);
    add(
      'spamd',
      'fail',
      `${shown} exited ${result.code}${said ? ` (${said})` : ''}: spamd not reachable`,
      'start spamd (systemctl enable --now spamd), or point spamc_args at it (-d HOST -p PORT), or set spam_check = no',
    );
  }
}

async function checkSendmail(config: Config, deps: DoctorDeps, add: AddFn): Promise<void> {
  if (await deps.isExecutable(config.sendmailPath)) add('sendmail', 'ok', `${config.sendmailPath} is executable`);
  else
    add(
      'sendmail',
      'fail',
      `${config.sendmailPath} is missing or not executable`,
      'install postfix, or set sendmail = PATH to its sendmail',
    );
}

/**
 * The real test: run `pgpipe db probe` as the filter's Unix user with this configuration, which connects the way
 * the filter will (peer authentication / pg_ident map, socket permissions, config file readable, SELECT granted).
 * Needs root to switch users; as another user it says so instead of guessing.
 */
async function checkFilterUser(options: DoctorOptions, config: Config, deps: DoctorDeps, add: AddFn): Promise<void> {
  const user = options.filterUser;
  const env: Record<string, string> = { PGPIPE_DB_TIMEOUT: String(config.dbTimeoutMs) };
  if (config.databaseUrl !== undefined) env.PGPIPE_DATABASE_URL = config.databaseUrl;
  if (config.dataDir !== undefined) env.PGPIPE_DATA_DIR = config.dataDir;
  if (options.configPath !== undefined) env.PGPIPE_CONFIG = options.configPath;
  const probeArgs = [...deps.self, 'db', 'probe'];

  let result: ExecResult;
  if (user === deps.currentUser) {
    result = await deps.exec(probeArgs[0] ?? process.execPath, probeArgs.slice(1), { env });
  } else if (!deps.isRoot) {
    add('filter user', 'skip', `cannot test as ${user} without root`, `run pgpipe doctor as root (or as ${user})`);
    return;
  } else {
    const id = await deps.exec('id', ['-u', user]);
    if (id.code !== 0) {
      add(
        'filter user',
        'fail',
        `Unix user ${user} does not exist`,
        `create it (useradd --system --no-create-home ${user}) ` +
          `or pass --filter-user with the user= of pgpipe in master.cf`,
      );
      return;
    }
    // runuser keeps the environment we give it; HOME/USER of the target are what the filter would see anyway.
    result = await deps.exec('runuser', ['-u', user, '--', ...probeArgs], { env });
  }
  if (result.code === 0) {
    add('filter user', 'ok', `${user} can read users and aliases (connected as the filter would)`);
    return;
  }
  const said = firstLine(result.stderr) || result.error || `exit ${String(result.code)}`;
  add(
    'filter user',
    'fail',
    `${user} cannot read the tables: ${said}`,
    config.databaseUrl === undefined
      ? `make the ${deps.describeStore(config)} readable and writable by ${user} ` +
          `(chown -R ${user} on it), or use PostgreSQL`
      : `let ${user} connect (pg_hba.conf "local <db> ${user} peer" or the tutorial's pg_ident.conf map) ` +
          `and GRANT SELECT ON users, aliases TO its role; ` +
          `make /etc/pgpipe/pgpipe.conf and pgpipe readable by ${user}`,
  );
}

type AddFn = (name: string, status: CheckStatus, detail: string, fix?: string | null) => void;

function finish(checks: DoctorCheck[]): DoctorResult {
  return { checks, failures: checks.filter((c) => c.status === 'fail').length };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.replace(/\s+/g, ' ') : String(error);
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.replace(/^pgpipe: /, '').trim())
      .find((l) => l !== '') ?? ''
  );
}

const LABEL: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

export function formatDoctor(result: DoctorResult): string {
  const lines = result.checks.map((c) =>
    printable(
      `${LABEL[c.status]}  ${c.name}: ${c.detail}${c.fix !== null && c.status !== 'ok' ? ` -- fix: ${c.fix}` : ''}`,
    ),
  );
  const verdict =
    result.failures === 0
      ? 'doctor: no failures'
      : `doctor: ${result.failures} failure${result.failures === 1 ? '' : 's'}`;
  return `${lines.join('\n')}\n${verdict}\n`;
}
