// Defines the admin commands (db, user, key, alias, doctor): arguments, options and help with an example each.
// Actions lazy-import their command function, hand it an open store, print a table or --json, and return the
// exit status to runAction (cli-support.ts), the admin exit boundary. No command logic lives here.
import type { Command } from 'commander';
import { addSettingOptions, configFor, runAction, writeAll } from '../cli-support.js';
import { permanent } from '../errors.js';
import type { AdminDeps } from './admin-deps.js';

interface OutputOptions {
  json?: boolean;
}

const JSON_HELP = 'print the result as JSON (for scripts)';

/** Opens the configured store for one command and always closes it. */
async function withDb<T>(command: Command, fn: (deps: AdminDeps) => Promise<T>): Promise<T> {
  const config = configFor(command);
  const [{ openDb }, { addressOptionsFrom }] = await Promise.all([
    import('../store/open-db.js'),
    import('../store/address-match.js'),
  ]);
  const db = await openDb(config);
  try {
    return await fn({ db, now: () => new Date(), addressing: addressOptionsFrom(config) });
  } finally {
    await db.close();
  }
}

/** Human text on stdout and warnings on stderr, or the whole result (warnings included) as JSON. */
async function output<R>(result: R, options: OutputOptions, format: (result: R) => string): Promise<void> {
  if (options.json === true) {
    await writeAll(process.stdout, `${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  await writeAll(process.stdout, format(result));
  const warnings = (result as { warnings?: readonly string[] }).warnings ?? [];
  for (const warning of warnings) await writeAll(process.stderr, `pgpipe: warning: ${warning}\n`);
}

function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

// Subcommands get --json and the settings flags after their own options, so --help lists what is specific first.
const pending: Command[] = [];

/** A subcommand with an example in its help; --json and the common settings flags are added by registerAdmin. */
function sub(parent: Command, spec: string, description: string, help: string): Command {
  const command = parent.command(spec).description(description).addHelpText('after', help);
  pending.push(command);
  return command;
}

export function registerAdmin(program: Command): void {
  registerDb(program);
  registerUser(program);
  registerKey(program);
  registerAlias(program);
  registerDoctor(program);
  for (const command of pending.splice(0)) addSettingOptions(command.option('--json', JSON_HELP), 'common');
}

function registerDb(program: Command): void {
  const db = program
    .command('db')
    .description("the users/aliases tables (the tutorial's schema)")
    .addHelpText('after', examples('pgpipe db init --db "postgresql:///mailstore_db?host=/var/run/postgresql"'));

  const init = sub(
    db,
    'init',
    "create the tutorial's users and aliases tables if missing, add lookup indexes, report duplicates",
    `\nSafe on an existing tutorial database: existing tables, columns and rows are left alone; the added\n` +
      `indexes are not unique, so duplicate rows are reported instead of breaking anything.\n${examples(
        'pgpipe db init',
        'pgpipe db init --db "postgresql:///mailstore_db?host=/var/run/postgresql" --json',
      )}`,
  );
  init.action(
    runAction(async (options: OutputOptions) => {
      const { runInitDb, formatInitDb } = await import('./init-db.js');
      await output(await withDb(init, (deps) => runInitDb(deps)), options, formatInitDb);
    }),
  );

  // Run by `pgpipe doctor` as the filter's Unix user; not for people.
  const probe = db.command('probe', { hidden: true }).description('read both tables the way the filter does');
  addSettingOptions(probe, 'common');
  probe.action(
    runAction(async () => {
      const { runProbeTables } = await import('./probe-tables.js');
      await withDb(probe, (deps) => runProbeTables(deps));
      await writeAll(process.stdout, 'ok\n');
    }),
  );
}

function registerUser(program: Command): void {
  const user = program
    .command('user')
    .description('mail accounts: rows of the users table')
    .addHelpText(
      'after',
      examples('pgpipe user add alice@example.org --key alice.asc --password-stdin', 'pgpipe user list'),
    );

  const add = sub(
    user,
    'add <email>',
    'add a user with an OpenPGP public key and a password (hashed as {SHA512-CRYPT})',
    `\nThe key is validated and test-encrypted before anything is written. The password is read from the first\n` +
      `line of stdin (never from the command line) and stored as a salted {SHA512-CRYPT} hash Dovecot verifies.\n` +
      `${examples(
        'read -rs PW; printf \'%s\\n\' "$PW" | ' +
          'pgpipe user add astronaut57@example.org --key astronaut57.asc --password-stdin',
        'pgpipe user add bob@example.org --key - --password-hash "$(doveadm pw -s SHA512-CRYPT)" < bob.asc',
      )}`,
  )
    .requiredOption('--key <file>', 'the public key file, armored or binary (- for stdin)')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .option('--password-hash <hash>', 'an already hashed password, e.g. {SHA512-CRYPT}$6$... from doveadm pw')
    .option(
      '--maildir <dir>',
      'maildir relative to the mail store (default: the local part plus /, as in the tutorial)',
    )
    .option('--allow-other-uid', 'store the key even if none of its user IDs carries the address');
  add.action(
    runAction(
      async (
        email: string,
        options: OutputOptions & {
          key: string;
          passwordStdin?: boolean;
          passwordHash?: string;
          maildir?: string;
          allowOtherUid?: boolean;
        },
      ) => {
        if (options.passwordStdin === true && options.key === '-') {
          throw permanent('usage', '--key - and --password-stdin both need stdin; give the key as a file');
        }
        if ((options.passwordStdin === true) === (options.passwordHash !== undefined)) {
          throw permanent('usage', 'give exactly one of --password-stdin and --password-hash HASH');
        }
        const [{ runAddUser, formatAddUser }, { readKeyFile, readPasswordLine }] = await Promise.all([
          import('./add-user.js'),
          import('./read-input.js'),
        ]);
        const key = await readKeyFile(options.key, process.stdin);
        const password = options.passwordStdin === true ? await readPasswordLine(process.stdin) : undefined;
        const result = await withDb(add, (deps) =>
          runAddUser(
            {
              email,
              key,
              password,
              passwordHash: options.passwordHash,
              maildir: options.maildir,
              allowOtherUid: options.allowOtherUid,
            },
            deps,
          ),
        );
        await output(result, options, formatAddUser);
      },
    ),
  );

  const list = sub(
    user,
    'list',
    'list users with their maildir and key status (never password hashes)',
    examples('pgpipe user list', 'pgpipe user list --json'),
  );
  list.action(
    runAction(async (options: OutputOptions) => {
      const { runListUsers, formatListUsers } = await import('./list-users.js');
      await output(await withDb(list, (deps) => runListUsers(deps)), options, formatListUsers);
    }),
  );

  const remove = sub(
    user,
    'remove <email>',
    'delete a user row (mail already delivered is not touched)',
    examples('pgpipe user remove astronaut57@example.org', 'pgpipe user remove astronaut57@example.org --with-aliases'),
  ).option('--with-aliases', 'also delete the aliases that point to the address');
  remove.action(
    runAction(async (email: string, options: OutputOptions & { withAliases?: boolean }) => {
      const { runRemoveUser, formatRemoveUser } = await import('./remove-user.js');
      await output(
        await withDb(remove, (deps) => runRemoveUser({ email, withAliases: options.withAliases }, deps)),
        options,
        formatRemoveUser,
      );
    }),
  );
}

function registerKey(program: Command): void {
  const key = program
    .command('key')
    .description('the OpenPGP public keys stored in users.pgpkey')
    .addHelpText('after', examples('pgpipe key show alice@example.org', 'pgpipe key check --within 14'));
  const keyWrite = (name: 'set' | 'add', description: string, example: string): Command =>
    sub(
      key,
      `${name} <email> <file>`,
      description,
      `\nThe key is validated (public, parsable, not expired or revoked, an encryption subkey, RSA >= 2048, not\n` +
        `DSA/ElGamal, not v6, a user ID with the address) and test-encrypted; on any problem nothing is written.\n` +
        `${examples(example)}`,
    ).option('--allow-other-uid', 'store the key even if none of its user IDs carries the address');

  const set = keyWrite(
    'set',
    "replace all of a user's keys (rotation); FILE may be - for stdin",
    'pgpipe key set alice@example.org alice-2027.asc',
  );
  set.action(
    runAction(async (email: string, file: string, options: OutputOptions & { allowOtherUid?: boolean }) => {
      const [{ runSetKey, formatSetKey }, { readKeyFile }] = await Promise.all([
        import('./set-key.js'),
        import('./read-input.js'),
      ]);
      const data = await readKeyFile(file, process.stdin);
      await output(
        await withDb(set, (deps) => runSetKey({ email, key: data, allowOtherUid: options.allowOtherUid }, deps)),
        options,
        formatSetKey,
      );
    }),
  );

  const add = keyWrite(
    'add',
    "add another key (e.g. another device's), kept alongside the existing ones",
    'pgpipe key add alice@example.org alice-phone.asc',
  );
  add.action(
    runAction(async (email: string, file: string, options: OutputOptions & { allowOtherUid?: boolean }) => {
      const [{ runAddKey, formatAddKey }, { readKeyFile }] = await Promise.all([
        import('./add-key.js'),
        import('./read-input.js'),
      ]);
      const data = await readKeyFile(file, process.stdin);
      await output(
        await withDb(add, (deps) => runAddKey({ email, key: data, allowOtherUid: options.allowOtherUid }, deps)),
        options,
        formatAddKey,
      );
    }),
  );

  const importKeys = sub(
    key,
    'import',
    'migrate from gpgit: store the public keys of a GnuPG home for the users they name',
    `\nEach key goes to every users row one of its user IDs names (case-insensitive), validated as "key set"\n` +
      `validates. Without --apply nothing is written; with --apply all writes are one transaction. A row with a\n` +
      `different key keeps it too (as "key add"), unless --replace. gpg reads the home read-only (no lock or\n` +
      `trustdb writes) and exports public keys only; nothing is written to disk.\n${examples(
        'pgpipe key import --gnupg-home /var/opt/gpgit/.gnupg',
        'pgpipe key import --gnupg-home /var/opt/gpgit/.gnupg --apply',
      )}`,
  )
    .requiredOption('--gnupg-home <dir>', "the GnuPG home to read (gpgit's: /var/opt/gpgit/.gnupg)")
    .option('--apply', 'write the keys (default: only report what would change)')
    .option('--replace', "a row holding other keys gets only the keyring's keys (default: keep both)");
  importKeys.action(
    runAction(async (options: OutputOptions & { gnupgHome: string; apply?: boolean; replace?: boolean }) => {
      const { runImportKeys, formatImportKeys } = await import('./import-keys.js');
      const result = await withDb(importKeys, (deps) => runImportKeys(options, deps));
      await output(result, options, formatImportKeys);
    }),
  );

  const remove = sub(
    key,
    'remove <email> <fingerprint>',
    'remove one key by fingerprint (or 16-digit key ID); the last usable key cannot be removed',
    `\nRemoving the last usable key is refused (users.pgpkey is NOT NULL, and a user without a key gets\n` +
      `unencrypted mail): use "pgpipe key set" to replace it instead.\n${examples(
        'pgpipe key remove alice@example.org 0123456789ABCDEF0123456789ABCDEF01234567',
      )}`,
  );
  remove.action(
    runAction(async (email: string, fingerprint: string, options: OutputOptions) => {
      const { runRemoveKey, formatRemoveKey } = await import('./remove-key.js');
      await output(
        await withDb(remove, (deps) => runRemoveKey({ email, fingerprint }, deps)),
        options,
        formatRemoveKey,
      );
    }),
  );

  const show = sub(
    key,
    'show <email>',
    'show each stored key: fingerprint, algorithm, created/expires, user IDs, usable or why not',
    examples('pgpipe key show alice@example.org'),
  );
  show.action(
    runAction(async (email: string, options: OutputOptions) => {
      const { runShowKeys, formatShowKeys } = await import('./show-keys.js');
      await output(await withDb(show, (deps) => runShowKeys({ email }, deps)), options, formatShowKeys);
    }),
  );

  const check = sub(
    key,
    'check',
    "check every user's keys: expired, expiring soon, revoked, unusable, or no key",
    `\nExit status: 0 when every key is fine for the next DAYS days, 1 when anything needs attention (so cron\n` +
      `mails the output), 75 when the database is unavailable.\n${examples(
        'pgpipe key check',
        '0 7 * * * root pgpipe key check --within 14 --quiet   (cron.d line: mail only when needed)',
      )}`,
  )
    .option('--within <days>', 'report keys that stop encrypting within this many days', '30')
    .option('--all', 'list fine keys too')
    .option('--quiet', 'print nothing when all keys are fine (for cron, which mails any output)');
  check.action(
    runAction(async (options: OutputOptions & { within: string; all?: boolean; quiet?: boolean }) => {
      const withinDays = Number(options.within);
      if (!Number.isInteger(withinDays) || withinDays < 0)
        throw permanent('usage', '--within needs a whole number of days (0 or more)');
      const { runCheckKeys, formatCheckKeys } = await import('./check-keys.js');
      const result = await withDb(check, (deps) => runCheckKeys({ withinDays }, deps));
      if (!(options.quiet === true && result.attention === 0 && options.json !== true)) {
        await output(result, options, (r) => formatCheckKeys(r, options.all === true));
      }
      return result.attention > 0 ? 1 : 0;
    }),
  );
}

function registerAlias(program: Command): void {
  const alias = program
    .command('alias')
    .description('rows of the aliases table (full addresses or bare local parts)')
    .addHelpText('after', examples('pgpipe alias add astronaut57 astronaut57@example.org', 'pgpipe alias list'));

  const add = sub(
    alias,
    'add <alias> <email>',
    'add an alias: ALIAS is a full address or a bare local part (that applies only in local domains)',
    examples(
      'pgpipe alias add astronaut57 astronaut57@example.org',
      'pgpipe alias add postmaster@example.org alice@example.org',
    ),
  );
  add.action(
    runAction(async (name: string, email: string, options: OutputOptions) => {
      const { runAliasAdd, formatAliasAdd } = await import('./alias-add.js');
      await output(await withDb(add, (deps) => runAliasAdd({ alias: name, email }, deps)), options, formatAliasAdd);
    }),
  );

  const remove = sub(
    alias,
    'remove <alias> [email]',
    'remove an alias (only its row to EMAIL when given)',
    examples('pgpipe alias remove astronaut57', 'pgpipe alias remove postmaster@example.org alice@example.org'),
  );
  remove.action(
    runAction(async (name: string, email: string | undefined, options: OutputOptions) => {
      const { runAliasRemove, formatAliasRemove } = await import('./alias-remove.js');
      await output(
        await withDb(remove, (deps) => runAliasRemove({ alias: name, email }, deps)),
        options,
        formatAliasRemove,
      );
    }),
  );

  const list = sub(
    alias,
    'list',
    'list aliases, their form and whether the target is a user',
    examples('pgpipe alias list', 'pgpipe alias list --email alice@example.org --json'),
  ).option('--email <email>', 'only aliases pointing to (or named) this address');
  list.action(
    runAction(async (options: OutputOptions & { email?: string }) => {
      const { runAliasList, formatAliasList } = await import('./alias-list.js');
      await output(
        await withDb(list, (deps) => runAliasList({ email: options.email }, deps)),
        options,
        formatAliasList,
      );
    }),
  );
}

function registerDoctor(program: Command): void {
  const doctor = program
    .command('doctor')
    .description(
      "check configuration, database, tables, spamd, sendmail, the filter user's access, key health, and pgpipe serve",
    )
    .option('--filter-user <name>', 'the Unix user master.cf runs pgpipe as (pipe(8) user=)', 'pgpipe')
    .option('--json', JSON_HELP)
    .addHelpText(
      'after',
      `\nThe filter-user check runs "pgpipe db probe" as that user (runuser; needs root), so it tests what the\n` +
        `filter will meet: peer authentication or the pg_ident map, socket and file permissions, SELECT grants.\n` +
        `With serve_listen set it also checks that pgpipe serve answers there in serve_protocol (greeting, LHLO or\n` +
        `EHLO, QUIT) and, with serve_metrics, reads its metrics (transactions in flight, deferrals).\n` +
        `Exit status: 0 when nothing failed (warnings allowed), 1 on any failure.\n${examples(
          'sudo pgpipe doctor',
          'sudo pgpipe doctor --filter-user pgpipe --db "postgresql:///mailstore_db?host=/var/run/postgresql"',
          'sudo pgpipe doctor --protocol smtp --listen inet:127.0.0.1:10025 --metrics inet:127.0.0.1:9129',
        )}`,
    );
  // serve's settings too: with serve_listen set (or --listen), doctor checks the running pgpipe serve.
  addSettingOptions(doctor, 'serve');
  doctor.action(
    runAction(async (options: OutputOptions & { filterUser: string; config?: string }) => {
      const [{ runDoctor, formatDoctor }, { createDoctorDeps }] = await Promise.all([
        import('./doctor.js'),
        import('./doctor-system.js'),
      ]);
      const self = [process.execPath, process.argv[1] ?? 'pgpipe'];
      const deps = await createDoctorDeps(() => configFor(doctor), self);
      const result = await runDoctor({ filterUser: options.filterUser, configPath: options.config }, deps);
      await output(result, options, formatDoctor);
      return result.failures > 0 ? 1 : 0;
    }),
  );
}
