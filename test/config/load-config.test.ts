import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfigFile } from '../../src/config/load-config.js';
import { PgpipeError } from '../../src/errors.js';

function withConfigFile(text: string, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'pgpipe-config-'));
  try {
    const path = join(dir, 'pgpipe.conf');
    writeFileSync(path, text);
    fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const noDefaultFile = { PGPIPE_CONFIG: '/nonexistent/but/explicit' };

describe('loadConfig', () => {
  it('uses the defaults when nothing is set (a missing default config file is fine)', () => {
    // The default path /etc/pgpipe/pgpipe.conf does not exist on a test machine.
    const config = loadConfig({ flags: {}, env: {} });
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.recipientDelimiter, '+');
    assert.equal(config.protectHeaders, true);
    assert.equal(config.subjectPlaceholder, '[...]');
    assert.equal(config.sendmailPath, '/usr/sbin/sendmail');
    assert.equal(config.missingKey, 'deliver');
    assert.equal(config.unusableKey, 'defer');
    assert.equal(config.deadlineMs, 120_000);
    assert.deepEqual(config.spamcArgs, []);
    assert.ok(Object.isFrozen(config));
  });

  it('takes flag over environment over config file', () => {
    withConfigFile(
      '# comment\ndatabase_url = postgres://file/db\nrecipient_delimiter = "-"\ndb_timeout = 300\n',
      (path) => {
        const env = { PGPIPE_DATABASE_URL: 'postgres://env/db', PGPIPE_DB_TIMEOUT: '200' };
        const config = loadConfig({ flags: { databaseUrl: 'postgres://flag/db' }, env, configPath: path });
        assert.equal(config.databaseUrl, 'postgres://flag/db');
        assert.equal(config.dbTimeoutMs, 200);
        assert.equal(config.recipientDelimiter, '-');
        const fileOnly = loadConfig({ flags: {}, env: {}, configPath: path });
        assert.equal(fileOnly.databaseUrl, 'postgres://file/db');
        assert.equal(fileOnly.dbTimeoutMs, 300);
      },
    );
  });

  it('reads the config file named by PGPIPE_CONFIG', () => {
    withConfigFile('missing_key = defer\nspamc_args = -d 127.0.0.1 -p 7830\nprotect_headers = no\n', (path) => {
      const config = loadConfig({ flags: {}, env: { PGPIPE_CONFIG: path } });
      assert.equal(config.missingKey, 'defer');
      assert.deepEqual(config.spamcArgs, ['-d', '127.0.0.1', '-p', '7830']);
      assert.equal(config.protectHeaders, false);
    });
  });

  it('parses yes/no/true/false/on/off/1/0 booleans from env and file', () => {
    for (const [text, value] of [
      ['yes', true],
      ['No', false],
      ['TRUE', true],
      ['off', false],
      ['1', true],
      ['0', false],
    ] as const) {
      assert.equal(loadConfig({ flags: {}, env: { PGPIPE_KEEP_SUBJECT: text } }).keepSubject, value, text);
    }
  });

  const invalid: Array<[string, Record<string, string>, RegExp]> = [
    ['a non-number timeout', { PGPIPE_DB_TIMEOUT: 'soon' }, /^invalid PGPIPE_DB_TIMEOUT: /],
    ['a zero deadline', { PGPIPE_DEADLINE: '0' }, /^invalid PGPIPE_DEADLINE: /],
    ['an unknown policy', { PGPIPE_MISSING_KEY: 'bounce' }, /^invalid PGPIPE_MISSING_KEY: /],
    ['a non-boolean', { PGPIPE_SPAM_CHECK: 'maybe' }, /^invalid PGPIPE_SPAM_CHECK: expected yes or no/],
    [
      'a multi-line placeholder',
      { PGPIPE_SUBJECT_PLACEHOLDER: 'a\nb' },
      /^invalid PGPIPE_SUBJECT_PLACEHOLDER: must be one line/,
    ],
    [
      'an address as a local domain',
      { PGPIPE_LOCAL_DOMAINS: 'example.org postmaster@example.net' },
      /^invalid PGPIPE_LOCAL_DOMAINS: .*expected domain names/,
    ],
    ['a pattern as a local domain', { PGPIPE_LOCAL_DOMAINS: '*.example.org' }, /^invalid PGPIPE_LOCAL_DOMAINS: /],
  ];
  for (const [what, env, message] of invalid) {
    it(`refuses ${what} with one line naming the source`, () => {
      assert.throws(
        () => loadConfig({ flags: {}, env }),
        (error: unknown) =>
          error instanceof PgpipeError &&
          error.code === 'config.invalid' &&
          error.temporary &&
          message.test(error.message) &&
          !error.message.includes('\n'),
      );
    });
  }

  it('treats an empty environment variable as unset, except the recipient delimiter', () => {
    withConfigFile('database_url = postgres://file/db\n', (path) => {
      const config = loadConfig({
        flags: {},
        env: { PGPIPE_DATABASE_URL: '', PGPIPE_RECIPIENT_DELIMITER: '' },
        configPath: path,
      });
      assert.equal(config.databaseUrl, 'postgres://file/db');
      assert.equal(config.recipientDelimiter, '');
    });
  });

  it('names the flag when a flag value is invalid', () => {
    assert.throws(() => loadConfig({ flags: { deadlineMs: 'x' }, env: {} }), /invalid --deadline: expected a number/);
  });

  it('fails when an explicitly named config file is missing', () => {
    assert.throws(
      () => loadConfig({ flags: {}, env: noDefaultFile }),
      /cannot read config file \/nonexistent\/but\/explicit: ENOENT/,
    );
  });
});

describe('local_domains', () => {
  it('is empty by default and takes spaces or commas, like mydestination, from flag, env and file', () => {
    assert.deepEqual(loadConfig({ flags: {}, env: noDefaultFile, configPath: '/dev/null' }).localDomains, []);
    const fromEnv = loadConfig({ flags: {}, env: { PGPIPE_LOCAL_DOMAINS: ' a.example,b.example  C.example ' } });
    assert.deepEqual(fromEnv.localDomains, ['a.example', 'b.example', 'C.example']);
    const env = { PGPIPE_LOCAL_DOMAINS: 'a.example' };
    assert.deepEqual(loadConfig({ flags: { localDomains: 'x.example, y.example' }, env }).localDomains, [
      'x.example',
      'y.example',
    ]);
    withConfigFile('local_domains = mail.example, lists.example # the list server\n', (path) => {
      const fromFile = loadConfig({ flags: {}, env: {}, configPath: path });
      assert.deepEqual(fromFile.localDomains, ['mail.example', 'lists.example']);
    });
  });
});

describe('parseConfigFile', () => {
  it('ignores comments and blank lines and strips quotes', () => {
    assert.deepEqual(parseConfigFile('# hi\n\n  sendmail = "/usr/sbin/sendmail"  \nlog=syslog\r\n', 'f'), {
      sendmailPath: '/usr/sbin/sendmail',
      log: 'syslog',
    });
  });
  it('treats " # ..." after an unquoted value as a comment, and keeps # inside quotes', () => {
    assert.deepEqual(
      parseConfigFile(
        'subject_placeholder = "[#secret]"   # hide it\ndatabase_url = postgresql:///db?host=/run   # socket\n',
        'f',
      ),
      { subjectPlaceholder: '[#secret]', databaseUrl: 'postgresql:///db?host=/run' },
    );
  });
  it('reports an unknown key with its line number', () => {
    assert.throws(
      () => parseConfigFile('log = stderr\ndatabase = x\n', '/etc/pgpipe/pgpipe.conf'),
      /pgpipe.conf:2: unknown setting "database"/,
    );
  });
  it('reports a line that is not name = value', () => {
    assert.throws(() => parseConfigFile('just words\n', 'f'), /f:1: expected "name = value"/);
  });
});
