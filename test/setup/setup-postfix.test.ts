// `pgpipe setup postfix`: the printed commands, --apply/--undo on a real Postfix configuration directory (real
// postconf), and proof that postfix-snippets/ (the readable form) and the command give the same configuration.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  wiringCommands,
  wiringFiles,
  masterEntry,
  shellQuote,
  SENT_MAP,
  type WiringOptions,
} from '../../src/setup/postfix-wiring.js';
import { parseConfigFile } from '../../src/config/load-config.js';
import { runCli } from '../helpers/run-cli.js';

const snippet = (name: string): string =>
  readFileSync(new URL(`../../postfix-snippets/${name}`, import.meta.url), 'utf8');

// Debian's stock smtpd services, as the tutorial's master.cf has them.
const BASE_MASTER = `smtp      inet  n       -       y       -       -       smtpd
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
smtps     inet  n       -       y       -       -       smtpd
  -o smtpd_tls_wrappermode=yes
pickup    unix  n       -       y       60      1       pickup
`;
const BASE_MAIN = 'myhostname = mx.example.org\nmydestination = example.org, localhost\n';

function configDir(master = BASE_MASTER, main = BASE_MAIN): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgpipe-setup-'));
  writeFileSync(join(dir, 'main.cf'), main);
  writeFileSync(join(dir, 'master.cf'), master);
  return dir;
}

const postconf = (dir: string, ...args: string[]): string =>
  execFileSync('postconf', ['-c', dir, ...args], { encoding: 'utf8' });

/** What Postfix itself reads from a directory: main.cf settings, master.cf entries and per-service overrides. */
function effective(dir: string): { main: string; master: string; overrides: string } {
  const main = postconf(dir, '-n')
    .split('\n')
    .filter((l) => !l.startsWith('config_directory'))
    .sort()
    .join('\n');
  // -o overrides are compared through -P, sorted: their order within one entry does not matter to Postfix.
  const master = postconf(dir, '-M').replace(/ -o \S+/g, '');
  return { main, master, overrides: postconf(dir, '-P').split('\n').sort().join('\n') };
}

const SNIPPET_INSTALL = ['--pgpipe', '/opt/pgpipe/bin/pgpipe', '--user', 'pgpipe'];

const defaults = (over: Partial<WiringOptions>): WiringOptions => ({
  mode: 'deliver',
  postfixConfig: '/etc/postfix',
  pgpipe: '/opt/pgpipe/bin/pgpipe',
  user: 'pgpipe',
  service: 'pgpipe-deliver',
  transportSetting: 'mailbox_transport',
  smtpdServices: [],
  maxProcesses: 10,
  timeLimit: '300s',
  ...over,
});

describe('setup postfix: the commands (pure)', () => {
  it('deliver: the pipe service with X and q, limit 1, time limit, mailbox_transport; all on postconf -c DIR', () => {
    const commands = wiringCommands(
      defaults({
        postfixConfig: '/srv/pf',
        lmtp: 'inet:127.0.0.1:24',
        databaseUrl: 'postgresql:///m?host=/run/postgresql',
      }),
    );
    assert.deepEqual(
      commands.map((c) => c.slice(0, 4)),
      [
        ['postconf', '-c', '/srv/pf', '-M'],
        ['postconf', '-c', '/srv/pf', '-e'],
        ['postconf', '-c', '/srv/pf', '-e'],
        ['postconf', '-c', '/srv/pf', '-e'],
      ],
    );
    assert.equal(
      commands[0]?.[4],
      'pgpipe-deliver/unix=pgpipe-deliver unix - n n - 10 pipe flags=Xq user=pgpipe null_sender= ' +
        'argv=/opt/pgpipe/bin/pgpipe deliver --lmtp inet:127.0.0.1:24 --db postgresql:///m?host=/run/postgresql ' +
        '--queue-id ${queue_id} -f ${sender} -- ${recipient}',
    );
    assert.deepEqual(
      commands.slice(1).map((c) => c[4]),
      [
        'pgpipe-deliver_destination_recipient_limit = 1',
        'pgpipe-deliver_time_limit = 300s',
        'mailbox_transport = pgpipe-deliver',
      ],
    );
  });

  it('filter: content_filter only on the smtpd services, never in main.cf', () => {
    const commands = wiringCommands(
      defaults({ mode: 'filter', service: 'pgpipe', smtpdServices: ['smtp/inet', 'submission/inet'] }),
    );
    assert.ok(commands.every((c) => !/content_filter/.test(c[4] ?? '') || c[3] === '-P'));
    assert.deepEqual(
      commands.filter((c) => c[3] === '-P').map((c) => c[4]),
      ['smtp/inet/content_filter=pgpipe:dummy', 'submission/inet/content_filter=pgpipe:dummy'],
    );
    assert.match(
      masterEntry(defaults({ mode: 'filter', service: 'pgpipe' })),
      / flags=q user=pgpipe null_sender= argv=\S+ filter --queue-id/,
    );
  });

  it('--sent-copies: the regexp table, the restriction in main.cf, on the submission services only', () => {
    const options = defaults({ postfixConfig: '/srv/pf/', sentCopies: true });
    assert.deepEqual(wiringFiles(options), [{ path: '/srv/pf/pgpipe-sent-copies.regexp', content: SENT_MAP }]);
    assert.deepEqual(
      wiringCommands(options)
        .slice(4)
        .map((c) => c.slice(3)),
      [
        ['-e', 'pgpipe_sent_copies = check_sasl_access regexp:/srv/pf/pgpipe-sent-copies.regexp'],
        ['-P', 'submission/inet/smtpd_data_restrictions=$pgpipe_sent_copies'],
        ['-P', 'smtps/inet/smtpd_data_restrictions=$pgpipe_sent_copies'],
      ],
    );
    assert.deepEqual(
      wiringCommands(defaults({ sentCopies: true, sentServices: ['127.0.0.1:587/inet'] })).at(-1)?.[4],
      '127.0.0.1:587/inet/smtpd_data_restrictions=$pgpipe_sent_copies',
    );
    assert.deepEqual(wiringFiles(defaults({})), []);
    assert.ok(wiringCommands(defaults({})).every((c) => !c.join(' ').includes('sent')));
  });

  it('the Sent table maps a login to its +Sent address and nothing else (real postmap)', () => {
    const dir = configDir();
    try {
      writeFileSync(join(dir, 'sent.regexp'), SENT_MAP);
      const query = (key: string): string => {
        try {
          const table = `regexp:${join(dir, 'sent.regexp')}`;
          return execFileSync('postmap', ['-c', dir, '-q', key, table], { encoding: 'utf8' }).trim();
        } catch {
          return '(none)';
        }
      };
      assert.equal(query('bob@example.org'), 'BCC bob+Sent@example.org');
      assert.equal(query('Bob.Smith@mail.example.org'), 'BCC Bob.Smith+Sent@mail.example.org');
      // A login without a domain, or with an extension already, gets no copy rather than a wrong address.
      for (const key of ['bob', 'bob+x@example.org', 'a@b@example.org']) assert.equal(query(key), '(none)', key);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses what would break master.cf or leak a password', () => {
    for (const over of [
      { pgpipe: 'bin/pgpipe' },
      { pgpipe: '/opt/my pgpipe' },
      { user: 'root' },
      { user: 'postfix' },
      { lmtp: '/run/dovecot/lmtp' },
      { lmtp: 'unix:/x y' },
      { databaseUrl: 'postgresql://u:secret@db/m' },
      { databaseUrl: 'postgresql:///m?password=secret' },
      { databaseUrl: 'postgresql:///m?x=${sender}' },
      { timeLimit: '5m' },
      { mode: 'filter', service: 'pgpipe', sentCopies: true },
      { sentCopies: true, sentServices: ['submission'] },
      { sentCopies: true, postfixConfig: '/etc/my postfix' },
    ] satisfies Partial<WiringOptions>[]) {
      assert.throws(
        () => wiringCommands(defaults(over)),
        (e: Error & { code?: string }) => e.code === 'usage',
        JSON.stringify(over),
      );
    }
  });

  it('quotes for a shell only what needs it', () => {
    assert.equal(shellQuote('/etc/postfix'), '/etc/postfix');
    assert.equal(shellQuote('a = b'), "'a = b'");
    assert.equal(shellQuote("it's ${x}"), "'it'\\''s ${x}'");
  });
});

describe('setup postfix: the command line and real postconf', () => {
  it('prints one shell line per command; running them is the same as --apply', async () => {
    const printedDir = configDir();
    const appliedDir = configDir();
    try {
      const args = [
        'setup',
        'postfix',
        '--mode',
        'deliver',
        ...SNIPPET_INSTALL,
        '--lmtp',
        'unix:/run/dovecot/lmtp-pgpipe',
      ];
      const printed = await runCli([...args, '--postfix-config', printedDir]);
      assert.equal(printed.code, 0, printed.stderr);
      const lines = printed.stdout.toString().trimEnd().split('\n');
      assert.equal(lines.length, 4);
      for (const line of lines) {
        assert.match(line, new RegExp(`^postconf -c ${printedDir} -[Me] '`));
        execFileSync('sh', ['-c', line]);
      }
      const applied = await runCli([...args, '--postfix-config', appliedDir, '--apply']);
      assert.equal(applied.code, 0, applied.stderr);
      assert.deepEqual(effective(appliedDir), effective(printedDir));
    } finally {
      rmSync(printedDir, { recursive: true, force: true });
      rmSync(appliedDir, { recursive: true, force: true });
    }
  });

  it('--sent-copies: the printed lines (here-document, postconf) do what --apply does; --undo drops the table', async () => {
    const printedDir = configDir();
    const appliedDir = configDir();
    try {
      const args = ['setup', 'postfix', '--mode', 'deliver', ...SNIPPET_INSTALL, '--sent-copies'];
      const printed = await runCli([...args, '--postfix-config', printedDir]);
      assert.equal(printed.code, 0, printed.stderr);
      assert.match(printed.stdout.toString(), new RegExp(`^cat > ${printedDir}/pgpipe-sent-copies\\.regexp <<'EOF'\n`));
      execFileSync('sh', ['-e'], { input: printed.stdout });
      const applied = await runCli([...args, '--postfix-config', appliedDir, '--apply']);
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stdout.toString(), new RegExp(`wrote ${appliedDir}/pgpipe-sent-copies\\.regexp`));
      // The same configuration, each naming the table in its own directory.
      const printedAsApplied = JSON.stringify(effective(printedDir)).replaceAll(printedDir, appliedDir);
      assert.deepEqual(effective(appliedDir), JSON.parse(printedAsApplied));
      for (const dir of [printedDir, appliedDir]) {
        assert.equal(readFileSync(join(dir, 'pgpipe-sent-copies.regexp'), 'utf8'), SENT_MAP);
      }
      const undo = await runCli(['setup', 'postfix', '--mode', 'deliver', '--postfix-config', appliedDir, '--undo']);
      assert.equal(undo.code, 0, undo.stderr);
      assert.equal(existsSync(join(appliedDir, 'pgpipe-sent-copies.regexp')), false);
      assert.equal(readFileSync(join(appliedDir, 'master.cf'), 'utf8'), BASE_MASTER);
      const filter = await runCli(['setup', 'postfix', '--mode', 'filter', '--sent-copies']);
      assert.equal(filter.code, 64, filter.stderr);
      assert.match(filter.stderr, /--sent-copies is for --mode deliver/);
      const stray = await runCli(['setup', 'postfix', '--mode', 'deliver', '--sent-service', 'submission/inet']);
      assert.equal(stray.code, 64, stray.stderr);
    } finally {
      rmSync(printedDir, { recursive: true, force: true });
      rmSync(appliedDir, { recursive: true, force: true });
    }
  });

  it("--sent-copies --apply names the smtpd_data_restrictions it replaces (the service's own, or main.cf's)", async () => {
    const master = BASE_MASTER.replace(
      '  -o syslog_name=postfix/submission\n',
      '  -o syslog_name=postfix/submission\n  -o smtpd_data_restrictions=reject_multi_recipient_bounce\n',
    );
    const dir = configDir(master, `${BASE_MAIN}smtpd_data_restrictions = reject_unauth_pipelining\n`);
    try {
      const args = [
        'setup',
        'postfix',
        '--mode',
        'deliver',
        ...SNIPPET_INSTALL,
        '--sent-copies',
        '--postfix-config',
        dir,
      ];
      const first = await runCli([...args, '--apply']);
      assert.equal(first.code, 0, first.stderr);
      const notes = first.stdout
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('note: '));
      assert.deepEqual(
        notes.map((l) => /^note: (\S+) loses smtpd_data_restrictions = (.*) \((.*)\);/.exec(l)?.slice(1)),
        [
          ['submission/inet', 'reject_multi_recipient_bounce', 'its -o'],
          ['smtps/inet', 'reject_unauth_pipelining', 'main.cf'],
        ],
      );
      const again = await runCli([...args, '--apply']);
      assert.equal(again.code, 0, again.stderr);
      assert.doesNotMatch(again.stdout.toString(), /^note: /m, 'nothing more to lose once it is ours');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--apply twice changes nothing more and keeps the first copies; --undo restores them byte for byte', async () => {
    const dir = configDir();
    chmodSync(join(dir, 'main.cf'), 0o640);
    try {
      const args = ['setup', 'postfix', '--mode', 'filter', ...SNIPPET_INSTALL, '--postfix-config', dir];
      const first = await runCli([...args, '--apply']);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout.toString(), new RegExp(`saved ${dir}/main.cf as ${dir}/main.cf.before-pgpipe`));
      const once = {
        main: readFileSync(join(dir, 'main.cf'), 'utf8'),
        master: readFileSync(join(dir, 'master.cf'), 'utf8'),
      };
      assert.match(once.master, /content_filter=pgpipe:dummy/);
      const second = await runCli([...args, '--apply']);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout.toString(), /kept .*main\.cf\.before-pgpipe/);
      assert.deepEqual(
        { main: readFileSync(join(dir, 'main.cf'), 'utf8'), master: readFileSync(join(dir, 'master.cf'), 'utf8') },
        once,
      );
      assert.equal(readFileSync(join(dir, 'main.cf.before-pgpipe'), 'utf8'), BASE_MAIN);

      const undo = await runCli(['setup', 'postfix', '--mode', 'filter', '--postfix-config', dir, '--undo']);
      assert.equal(undo.code, 0, undo.stderr);
      assert.equal(readFileSync(join(dir, 'main.cf'), 'utf8'), BASE_MAIN);
      assert.equal(readFileSync(join(dir, 'master.cf'), 'utf8'), BASE_MASTER);
      assert.equal(statSync(join(dir, 'main.cf')).mode & 0o777, 0o640);
      assert.equal(existsSync(join(dir, 'main.cf.before-pgpipe')), false);
      const again = await runCli(['setup', 'postfix', '--mode', 'filter', '--postfix-config', dir, '--undo']);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /^pgpipe: nothing to undo/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad options are a usage error (64) that changes nothing, never a silent half-wiring', async () => {
    const dir = configDir();
    try {
      for (const extra of [
        ['--pgpipe', 'relative/pgpipe'],
        ['--user', 'root'],
        ['--lmtp', 'localhost:24'],
        ['--mode', 'both'],
      ]) {
        const result = await runCli([
          'setup',
          'postfix',
          '--mode',
          'deliver',
          '--postfix-config',
          dir,
          '--apply',
          ...extra,
        ]);
        assert.equal(result.code, 64, `${extra.join(' ')}: ${result.stderr}`);
        assert.equal(readFileSync(join(dir, 'main.cf'), 'utf8'), BASE_MAIN);
        assert.equal(existsSync(join(dir, 'main.cf.before-pgpipe')), false);
      }
      const missing = await runCli([
        'setup',
        'postfix',
        '--mode',
        'deliver',
        '--postfix-config',
        join(dir, 'nope'),
        '--apply',
      ]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /main\.cf does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('setup postfix agrees with postfix-snippets/', () => {
  /** Installs the snippet files by hand, as postfix-snippets/README.md says. */
  function bySnippets(mode: 'filter' | 'deliver' | 'deliver+sent'): string {
    if (mode === 'deliver+sent') {
      // The -o line under submission and smtps (as master-sent.cf says), the table beside main.cf.
      const sentLine = /^#\s+(-o smtpd_data_restrictions=\S+)$/m.exec(snippet('master-sent.cf'))?.[1];
      assert.ok(sentLine, 'master-sent.cf names the -o line');
      const master = BASE_MASTER.replace(/^((?:submission|smtps)\s+inet .*)$/gm, `$1\n  ${sentLine}`);
      const dir = configDir(
        `${master}${snippet('master-deliver.cf')}`,
        `${BASE_MAIN}${snippet('main-deliver.cf')}${snippet('main-sent.cf')}`,
      );
      const restrictions = postconf(dir, '-h', 'pgpipe_sent_copies').trim().replace('/etc/postfix/', `${dir}/`);
      postconf(dir, '-e', `pgpipe_sent_copies = ${restrictions}`);
      writeFileSync(join(dir, 'pgpipe-sent-copies.regexp'), snippet('pgpipe-sent-copies.regexp'));
      return dir;
    }
    if (mode === 'deliver')
      return configDir(`${BASE_MASTER}${snippet('master-deliver.cf')}`, `${BASE_MAIN}${snippet('main-deliver.cf')}`);
    // README step 5: one "-o content_filter=pgpipe:dummy" under each of smtp, submission and smtps.
    const filterLine = /^#\s+(-o content_filter=\S+)$/m.exec(snippet('master.cf'))?.[1];
    assert.ok(filterLine, 'master.cf snippet names the content_filter line');
    const master = BASE_MASTER.replace(/^((?:smtp|submission|smtps)\s+inet .*)$/gm, `$1\n  ${filterLine}`);
    return configDir(`${master}${snippet('master.cf')}`, `${BASE_MAIN}${snippet('main.cf')}`);
  }

  for (const mode of ['filter', 'deliver', 'deliver+sent'] as const) {
    it(`${mode}: the same main.cf settings, master.cf entries and service overrides`, async () => {
      const manual = bySnippets(mode);
      const commanded = configDir();
      try {
        const flags = mode === 'deliver+sent' ? ['--mode', 'deliver', '--sent-copies'] : ['--mode', mode];
        const args = ['setup', 'postfix', ...flags, ...SNIPPET_INSTALL, '--postfix-config', commanded, '--apply'];
        const result = await runCli(args);
        assert.equal(result.code, 0, result.stderr);
        const want = effective(manual);
        assert.match(want.master, mode === 'filter' ? /^pgpipe +unix/m : /^pgpipe-deliver +unix/m);
        // Paths differ only by the directory; compare with each one's own.
        assert.deepEqual(effective(commanded), JSON.parse(JSON.stringify(want).replaceAll(manual, commanded)));
        if (mode === 'deliver+sent') {
          assert.match(want.overrides, /^submission\/inet\/smtpd_data_restrictions = \$pgpipe_sent_copies$/m);
          assert.doesNotMatch(want.overrides, /^smtp\/inet\/smtpd_data_restrictions/m);
          assert.equal(
            readFileSync(join(commanded, 'pgpipe-sent-copies.regexp'), 'utf8'),
            readFileSync(join(manual, 'pgpipe-sent-copies.regexp'), 'utf8'),
          );
        }
      } finally {
        rmSync(manual, { recursive: true, force: true });
        rmSync(commanded, { recursive: true, force: true });
      }
    });
  }

  it('the Dovecot snippet has the listener the deliver snippet names, owned by its pipe user, mode 0600', () => {
    const lmtp = /--lmtp unix:(\S+)/.exec(snippet('master-deliver.cf'))?.[1];
    const user = /\buser=(\S+)/.exec(snippet('master-deliver.cf'))?.[1];
    assert.equal(lmtp, '/run/dovecot/lmtp-pgpipe');
    const listener = /unix_listener lmtp-pgpipe \{([^}]*)\}/.exec(snippet('dovecot.conf'))?.[1] ?? '';
    assert.match(listener, new RegExp(`user = ${user}\\b`));
    assert.match(listener, /mode = 0600/);
  });
});

describe('setup postfix --mode serve-lmtp / serve-smtp', () => {
  const serve = (mode: 'serve-lmtp' | 'serve-smtp', over: Partial<WiringOptions> = {}): WiringOptions =>
    defaults({ mode, service: mode === 'serve-lmtp' ? 'pgpipe-lmtp' : 'pgpipe-smtp', maxProcesses: 10, ...over });
  const withQueue = (dir: string): string => `${BASE_MAIN}queue_directory = ${join(dir, 'queue')}\n`;
  /** A configuration directory whose queue_directory is private too (serve-lmtp --apply makes a directory there). */
  function serveConfigDir(master = BASE_MASTER): string {
    const dir = configDir(master);
    writeFileSync(join(dir, 'main.cf'), withQueue(dir));
    execFileSync('mkdir', [join(dir, 'queue')]);
    return dir;
  }
  /** The pgpipe.conf lines the notes print, as pgpipe's own config loader reads them. */
  function confFromNotes(stdout: string): Record<string, string> {
    const block = stdout.split('\n').filter((l) => /^# {3}\w+ = /.test(l) && !l.includes('unix_listener'));
    return parseConfigFile(block.map((l) => l.slice(4)).join('\n'), 'printed');
  }

  it('serve-lmtp: the socket directory, a dedicated lmtp service with XFORWARD, the transport relative to the queue', () => {
    const commands = wiringCommands(serve('serve-lmtp', { postfixConfig: '/srv/pf', postfixGroup: 'postfix' }));
    assert.deepEqual(commands, [
      ['install', '-d', '-o', 'pgpipe', '-g', 'postfix', '-m', '2750', '/var/spool/postfix/pgpipe'],
      ['postconf', '-c', '/srv/pf', '-M', 'pgpipe-lmtp/unix=pgpipe-lmtp unix - - y - - lmtp'],
      ['postconf', '-c', '/srv/pf', '-P', 'pgpipe-lmtp/unix/lmtp_send_xforward_command=yes'],
      ['postconf', '-c', '/srv/pf', '-P', 'pgpipe-lmtp/unix/lmtp_data_done_timeout=300s'],
      ['postconf', '-c', '/srv/pf', '-e', 'mailbox_transport = pgpipe-lmtp:unix:pgpipe/lmtp'],
    ]);
    const virtual = wiringCommands(
      serve('serve-lmtp', {
        transportSetting: 'virtual_transport',
        queueDirectory: '/q/',
        listen: 'unix:/q/pgpipe-serve/s',
        timeLimit: '200s',
      }),
    );
    assert.equal(virtual[0]?.at(-1), '/q/pgpipe-serve');
    assert.equal(virtual[3]?.[4], 'pgpipe-lmtp/unix/lmtp_data_done_timeout=200s');
    assert.equal(virtual[4]?.[4], 'virtual_transport = pgpipe-lmtp:unix:pgpipe-serve/s');
    // No pipe(8) knobs: LMTP answers per recipient, and no command runs under a time limit.
    assert.ok(commands.every((c) => !/_time_limit|_recipient_limit/.test(c.join(' '))));
  });

  it('serve-smtp: FILTER_README advanced filter, with pgpipe-specific choices spelled out', () => {
    const commands = wiringCommands(serve('serve-smtp'));
    const set = commands.map((c) => c.slice(3).join(' '));
    assert.equal(set[0], '-M pgpipe-smtp/unix=pgpipe-smtp unix - - n - 10 smtp');
    assert.deepEqual(set.slice(-3), [
      '-e content_filter = pgpipe-smtp:[127.0.0.1]:10025',
      // Postfix's own bounces skip content_filter: header_checks' FILTER action, applied to them too, covers them.
      '-e internal_mail_filter_classes = bounce',
      '-e header_checks = regexp:/etc/postfix/pgpipe-serve-filter.regexp',
    ]);
    const kept = wiringCommands(
      serve('serve-smtp', { headerChecks: 'pcre:/etc/postfix/mine.pcre', internalMailFilterClasses: 'notify' }),
    );
    assert.deepEqual(
      kept.slice(-2).map((c) => c.slice(3).join(' ')),
      [
        '-e internal_mail_filter_classes = notify, bounce',
        '-e header_checks = pcre:/etc/postfix/mine.pcre, regexp:/etc/postfix/pgpipe-serve-filter.regexp',
      ],
    );
    const again = wiringCommands(
      serve('serve-smtp', {
        headerChecks: 'regexp:/etc/postfix/pgpipe-serve-filter.regexp',
        internalMailFilterClasses: 'bounce',
      }),
    );
    assert.deepEqual(
      again.slice(-2).map((c) => c.slice(3).join(' ')),
      set.slice(-2),
      'a second --apply adds nothing',
    );
    assert.deepEqual(wiringFiles(serve('serve-smtp')), [
      { path: '/etc/postfix/pgpipe-serve-filter.regexp', content: '/^/ FILTER pgpipe-smtp:[127.0.0.1]:10025\n' },
    ]);
    for (const knob of [
      'smtp_send_xforward_command=yes',
      'disable_mime_output_conversion=yes',
      'smtp_data_done_timeout=300s',
    ]) {
      assert.ok(set.includes(`-P pgpipe-smtp/unix/${knob}`), knob);
    }
    assert.ok(set.includes('-M 127.0.0.1:10026/inet=127.0.0.1:10026 inet n - n - - smtpd'));
    for (const knob of [
      'content_filter=',
      'receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters,no_address_mappings',
      'smtpd_milters=',
      'smtpd_helo_restrictions=',
      'smtpd_client_restrictions=',
      'smtpd_sender_restrictions=',
      'smtpd_relay_restrictions=',
      'smtpd_recipient_restrictions=permit_mynetworks,reject',
      'mynetworks=127.0.0.0/8',
      'smtpd_authorized_xforward_hosts=127.0.0.0/8',
    ]) {
      assert.ok(set.includes(`-P 127.0.0.1:10026/inet/${knob}`), knob);
    }
    const ports = wiringCommands(serve('serve-smtp', { listen: 'inet:127.0.0.2:11025', next: 'inet:127.0.0.1:11026' }));
    assert.equal(ports.at(-3)?.[4], 'content_filter = pgpipe-smtp:[127.0.0.2]:11025');
    const filterFile = wiringFiles(serve('serve-smtp', { listen: 'inet:127.0.0.2:11025' }))[0];
    assert.equal(filterFile?.content, '/^/ FILTER pgpipe-smtp:[127.0.0.2]:11025\n');
    assert.ok(ports.some((c) => c[4] === '127.0.0.1:11026/inet/content_filter='));
  });

  it('refuses a reachable or misplaced listener, a loop, and the pipe-only options', () => {
    for (const over of [
      { mode: 'serve-lmtp', listen: 'inet:127.0.0.1:2424' }, // any local user could inject
      { mode: 'serve-lmtp', listen: 'unix:/run/pgpipe/lmtp' }, // outside the chrooted lmtp's reach
      { mode: 'serve-lmtp', listen: 'unix:/var/spool/postfix/lmtp' }, // the queue directory itself would be chmod'ed
      { mode: 'serve-lmtp', listen: 'unix:/var/spool/postfix/private/pgpipe' }, // Postfix's own directory
      { mode: 'serve-lmtp', listen: 'unix:/var/spool/postfix/a/b/lmtp' },
      { mode: 'serve-lmtp', next: 'dovecot' },
      { mode: 'serve-lmtp', user: 'root' },
      { mode: 'serve-lmtp', sentCopies: true },
      { mode: 'serve-smtp', listen: 'inet:0.0.0.0:10025' }, // an open relay into the trusting smtpd
      { mode: 'serve-smtp', next: 'inet:192.0.2.1:10026' },
      { mode: 'serve-smtp', next: 'unix:/run/x' },
      { mode: 'serve-smtp', listen: 'inet:127.0.0.1:10026' }, // == next: a loop
      { mode: 'serve-smtp', databaseUrl: 'not a url' },
    ] satisfies Partial<WiringOptions>[]) {
      const mode = over.mode;
      assert.throws(
        () => wiringCommands(serve(mode, over)),
        (e: Error & { code?: string }) => e.code === 'usage',
        JSON.stringify(over),
      );
    }
    // In pgpipe.conf (root:pgpipe 0640), not world-readable master.cf: a password is where it belongs.
    assert.doesNotThrow(() => wiringCommands(serve('serve-smtp', { databaseUrl: 'postgresql://u:pw@db/m' })));
  });

  it('serve-lmtp: the printed lines do what --apply does; the directory is owner:postfix 2750; --undo restores', async () => {
    const printedDir = serveConfigDir();
    const appliedDir = serveConfigDir();
    try {
      // nobody stands in for the pgpipe user the Debian package creates.
      const args = ['setup', 'postfix', '--mode', 'serve-lmtp', '--pgpipe', '/usr/bin/pgpipe', '--user', 'nobody'];
      const printed = await runCli([...args, '--postfix-config', printedDir]);
      assert.equal(printed.code, 0, printed.stderr);
      const text = printed.stdout.toString();
      assert.match(text, new RegExp(`^install -d -o nobody -g postfix -m 2750 ${printedDir}/queue/pgpipe$`, 'm'));
      execFileSync('sh', ['-e'], { input: text });
      assert.deepEqual(confFromNotes(text), {
        serveProtocol: 'lmtp',
        serveListen: `unix:${printedDir}/queue/pgpipe/lmtp`,
        serveNext: 'unix:/run/dovecot/lmtp-pgpipe',
        databaseUrl: 'postgresql:///mailstore_db?host=/var/run/postgresql&user=nobody',
      });
      assert.match(text, /^# {3}unix_listener lmtp-pgpipe \{ user = nobody {2}group = nobody {2}mode = 0600 \}$/m);
      // The unit may write only /var/spool/postfix/pgpipe: another queue directory needs a drop-in.
      assert.match(text, new RegExp(`^# pgpipe-serve.service: .*ReadWritePaths=${printedDir}/queue/pgpipe$`, 'm'));

      const applied = await runCli([...args, '--postfix-config', appliedDir, '--apply']);
      assert.equal(applied.code, 0, applied.stderr);
      // The same configuration, each with its own queue directory.
      const printedAsApplied = JSON.stringify(effective(printedDir)).replaceAll(printedDir, appliedDir);
      assert.deepEqual(effective(appliedDir), JSON.parse(printedAsApplied));
      assert.equal(statSync(join(printedDir, 'queue/pgpipe')).mode & 0o7777, 0o2750);
      assert.equal(postconf(appliedDir, '-h', 'mailbox_transport').trim(), 'pgpipe-lmtp:unix:pgpipe/lmtp');
      const socketDir = join(appliedDir, 'queue/pgpipe');
      const st = statSync(socketDir);
      const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }));
      const postfixGid = Number(execFileSync('id', ['-g', 'postfix'], { encoding: 'utf8' }));
      assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o2750, nobody, postfixGid]);
      assert.match(applied.stdout.toString(), /^# {3}serve_listen = unix:.*\/queue\/pgpipe\/lmtp$/m);

      const once = readFileSync(join(appliedDir, 'master.cf'), 'utf8');
      const again = await runCli([...args, '--postfix-config', appliedDir, '--apply']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(readFileSync(join(appliedDir, 'master.cf'), 'utf8'), once);

      const undo = await runCli(['setup', 'postfix', '--mode', 'serve-lmtp', '--postfix-config', appliedDir, '--undo']);
      assert.equal(undo.code, 0, undo.stderr);
      assert.equal(readFileSync(join(appliedDir, 'master.cf'), 'utf8'), BASE_MASTER);
      assert.equal(readFileSync(join(appliedDir, 'main.cf'), 'utf8'), withQueue(appliedDir));
      assert.equal(existsSync(socketDir), false, 'undo leaves the socket directory');

      // Once more, with what pgpipe serve leaves there (its socket) and what it does not (any other file).
      assert.equal((await runCli([...args, '--postfix-config', appliedDir, '--apply'])).code, 0);
      const live = createServer();
      await new Promise<void>((resolve) => live.listen(join(socketDir, 'lmtp'), resolve));
      writeFileSync(join(socketDir, 'notes.txt'), 'mine\n');
      const kept = await runCli(['setup', 'postfix', '--mode', 'serve-lmtp', '--postfix-config', appliedDir, '--undo']);
      assert.match(kept.stdout.toString(), /^kept \S+\/queue\/pgpipe: it holds more than pgpipe serve's socket$/m);
      rmSync(join(socketDir, 'notes.txt'));
      assert.equal((await runCli([...args, '--postfix-config', appliedDir, '--apply'])).code, 0);
      const removed = await runCli([
        'setup',
        'postfix',
        '--mode',
        'serve-lmtp',
        '--postfix-config',
        appliedDir,
        '--undo',
      ]);
      assert.match(removed.stdout.toString(), /^removed \S+\/queue\/pgpipe \(stop the service/m);
      assert.equal(existsSync(socketDir), false);
      live.close();
    } finally {
      rmSync(printedDir, { recursive: true, force: true });
      rmSync(appliedDir, { recursive: true, force: true });
    }
  });

  it('serve-lmtp: in the directory --apply makes, the socket is for its owner and Postfix only', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('switching users needs root');
    const dir = serveConfigDir();
    const node = process.execPath;
    // As the service would: a socket made by the directory's owner (nobody standing in for pgpipe), umask 0007.
    const as = (user: string, script: string, ...args: string[]) =>
      spawn('runuser', ['-u', user, '--', node, '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const result = (child: ReturnType<typeof as>): Promise<string> =>
      new Promise((resolve) => {
        let out = '';
        child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', () => resolve(out.trim()));
      });
    let service: ReturnType<typeof as> | undefined;
    try {
      chmodSync(dir, 0o755); // mkdtemp's 0700 would hide everything below from every other user
      chmodSync(join(dir, 'queue'), 0o755); // as /var/spool/postfix is
      const args = ['setup', 'postfix', '--mode', 'serve-lmtp', '--user', 'nobody', '--postfix-config', dir];
      assert.equal((await runCli([...args, '--apply'])).code, 0);
      const socket = join(dir, 'queue/pgpipe/lmtp');
      service = as(
        'nobody',
        `process.umask(0o007); require('node:net').createServer((c) => c.end('220 ok\\r\\n'))` +
          `.listen(process.argv[1], () => console.log('listening'))`,
        socket,
      );
      await new Promise<void>((resolve) => service?.stdout?.once('data', () => resolve()));
      const connectAs = (user: string): Promise<string> =>
        result(
          as(
            user,
            `require('node:net').connect(process.argv[1]).on('data', (d) => { console.log(String(d).trim()); ` +
              `process.exit(0); }).on('error', (e) => console.log(e.code))`,
            socket,
          ),
        );
      assert.equal(await connectAs('postfix'), '220 ok', "Postfix's lmtp client (user postfix) cannot connect");
      assert.equal(await connectAs('daemon'), 'EACCES', 'another local account can connect');
      assert.equal(statSync(socket).gid, statSync(join(dir, 'queue/pgpipe')).gid, 'the socket is not group postfix');
    } finally {
      service?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serve-smtp: the printed lines do what --apply does; --undo restores both files byte for byte', async () => {
    const printedDir = configDir();
    const appliedDir = configDir();
    try {
      const args = ['setup', 'postfix', '--mode', 'serve-smtp', '--listen', 'inet:127.0.0.1:10025'];
      const printed = await runCli([...args, '--postfix-config', printedDir]);
      assert.equal(printed.code, 0, printed.stderr);
      execFileSync('sh', ['-e'], { input: printed.stdout });
      assert.deepEqual(confFromNotes(printed.stdout.toString()), {
        serveProtocol: 'smtp',
        serveListen: 'inet:127.0.0.1:10025',
        serveNext: 'inet:127.0.0.1:10026',
        databaseUrl: 'postgresql:///mailstore_db?host=/var/run/postgresql&user=pgpipe',
      });
      const applied = await runCli([...args, '--postfix-config', appliedDir, '--apply']);
      assert.equal(applied.code, 0, applied.stderr);
      assert.deepEqual(
        effective(appliedDir),
        JSON.parse(JSON.stringify(effective(printedDir)).replaceAll(printedDir, appliedDir)),
      );
      assert.equal(
        readFileSync(join(appliedDir, 'pgpipe-serve-filter.regexp'), 'utf8'),
        '/^/ FILTER pgpipe-smtp:[127.0.0.1]:10025\n',
      );
      // What Postfix itself makes of it: the filter transport, and a re-injection smtpd that filters nothing.
      assert.equal(postconf(appliedDir, '-h', 'content_filter').trim(), 'pgpipe-smtp:[127.0.0.1]:10025');
      const overrides = effective(appliedDir).overrides;
      assert.match(overrides, /^127\.0\.0\.1:10026\/inet\/content_filter =$/m);
      assert.match(overrides, /^127\.0\.0\.1:10026\/inet\/smtpd_recipient_restrictions = permit_mynetworks,reject$/m);
      assert.match(overrides, /^pgpipe-smtp\/unix\/smtp_send_xforward_command = yes$/m);
      const check = execFileSync('postconf', ['-c', appliedDir, '-M', '127.0.0.1:10026/inet'], { encoding: 'utf8' });
      assert.match(check, /^127\.0\.0\.1:10026 +inet +n +- +n +- +- +smtpd /);

      const undo = await runCli(['setup', 'postfix', '--mode', 'serve-smtp', '--postfix-config', appliedDir, '--undo']);
      assert.equal(undo.code, 0, undo.stderr);
      assert.equal(readFileSync(join(appliedDir, 'master.cf'), 'utf8'), BASE_MASTER);
      assert.equal(readFileSync(join(appliedDir, 'main.cf'), 'utf8'), BASE_MAIN);
      assert.equal(existsSync(join(appliedDir, 'pgpipe-serve-filter.regexp')), false);
    } finally {
      rmSync(printedDir, { recursive: true, force: true });
      rmSync(appliedDir, { recursive: true, force: true });
    }
  });

  it("serve-smtp refuses a port another service has (the tutorial's amavis re-injection) and names what it replaces", async () => {
    const amavis = `${BASE_MASTER}127.0.0.1:10025 inet n - - - - smtpd\n  -o content_filter=\n`;
    const dir = configDir(amavis, `${BASE_MAIN}content_filter = amavis:[127.0.0.1]:10024\n`);
    try {
      const args = ['setup', 'postfix', '--mode', 'serve-smtp', '--postfix-config', dir];
      const clash = await runCli([...args, '--apply']);
      assert.equal(clash.code, 64, clash.stderr);
      assert.match(clash.stderr, /"127\.0\.0\.1:10025 inet \.\.\." on port 10025, which --listen needs/);
      assert.equal(readFileSync(join(dir, 'master.cf'), 'utf8'), amavis);
      assert.equal(existsSync(join(dir, 'master.cf.before-pgpipe')), false);

      const filtered = BASE_MASTER.replace(/^(smtp +inet .*)$/m, '$1\n  -o content_filter=pgpipe:dummy');
      writeFileSync(join(dir, 'master.cf'), `${filtered}127.0.0.1:10025 inet n - - - - smtpd\n`);
      const moved = await runCli([...args, '--listen', 'inet:127.0.0.1:10027', '--apply']);
      assert.equal(moved.code, 0, moved.stderr);
      const notes = moved.stdout
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('note: '));
      assert.deepEqual(notes, [
        "note: main.cf's content_filter = amavis:[127.0.0.1]:10024 is replaced; chain it after pgpipe if you " +
          'still need it',
        'note: smtp/inet keeps its own -o content_filter=pgpipe:dummy: its mail does not go through pgpipe serve ' +
          `(postconf -c ${dir} -PX smtp/inet/content_filter removes it)`,
      ]);
      const again = await runCli([...args, '--listen', 'inet:127.0.0.1:10027', '--apply']);
      assert.equal(again.code, 0, again.stderr);
      assert.doesNotMatch(again.stdout.toString(), /content_filter = amavis/, 'ours is not reported as replaced');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the serve-only and deliver-only flags are refused elsewhere (64)', async () => {
    for (const args of [
      ['--mode', 'deliver', '--listen', 'inet:127.0.0.1:1'],
      ['--mode', 'filter', '--next', 'inet:127.0.0.1:1'],
      ['--mode', 'serve-lmtp', '--lmtp', 'unix:/run/dovecot/lmtp-pgpipe'],
    ]) {
      const result = await runCli(['setup', 'postfix', ...args]);
      assert.equal(result.code, 64, `${args.join(' ')}: ${result.stderr}`);
    }
  });
});

describe('setup postfix --mode serve-* agrees with postfix-snippets/', () => {
  for (const mode of ['serve-lmtp', 'serve-smtp'] as const) {
    it(`${mode}: the same main.cf settings, master.cf entries and service overrides`, async () => {
      const queue = (dir: string): string => `queue_directory = ${join(dir, 'queue')}\n`;
      const manual = configDir(`${BASE_MASTER}${snippet(`master-${mode}.cf`)}`, BASE_MAIN);
      const mainSnippet = snippet(`main-${mode}.cf`).replaceAll('/etc/postfix/', `${manual}/`);
      writeFileSync(join(manual, 'main.cf'), `${BASE_MAIN}${queue(manual)}${mainSnippet}`);
      const commanded = configDir(BASE_MASTER, BASE_MAIN);
      writeFileSync(join(commanded, 'main.cf'), `${BASE_MAIN}${queue(commanded)}`);
      execFileSync('mkdir', [join(commanded, 'queue')]);
      try {
        // nobody: the pgpipe user of the snippets, which this machine may not have (serve-lmtp chowns to it).
        const args = ['setup', 'postfix', '--mode', mode, '--user', 'nobody', '--postfix-config', commanded, '--apply'];
        const result = await runCli(args);
        assert.equal(result.code, 0, result.stderr);
        const want = effective(manual);
        assert.match(want.master, mode === 'serve-lmtp' ? /^pgpipe-lmtp +unix/m : /^127\.0\.0\.1:10026 +inet/m);
        assert.deepEqual(effective(commanded), JSON.parse(JSON.stringify(want).replaceAll(manual, commanded)));
      } finally {
        rmSync(manual, { recursive: true, force: true });
        rmSync(commanded, { recursive: true, force: true });
      }
    });
  }

  it('serve-lmtp: the snippet names the socket directory setup makes, and the Dovecot listener deliver uses', () => {
    assert.match(
      snippet('master-serve-lmtp.cf'),
      /^# {3}install -d -o pgpipe -g postfix -m 2750 \/var\/spool\/postfix\/pgpipe$/m,
    );
    assert.match(snippet('main-serve-lmtp.cf'), /^mailbox_transport = pgpipe-lmtp:unix:pgpipe\/lmtp$/m);
  });
});
