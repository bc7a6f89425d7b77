// The README's walk-through, run as a newcomer would with the built bin/pgpipe against a real PostgreSQL:
// db init, user add with a GnuPG key, mail encrypted by `pgpipe encrypt` and decrypted with gpg, rotation
// (the old key no longer reads new mail), a second device (both read it), and `key check` flagging an expiring key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractArmor } from '../helpers/decrypt.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { runCli } from '../helpers/run-cli.js';
import { gnupgHome, type Gnupg } from './gpg.js';

const email = 'alice@example.org';
const message = (n: number) => `From: bob@example.net\nTo: ${email}\nSubject: note ${n}\n\nsecret body number ${n}\n`;

/** A device with its own GnuPG home and key, as `gpg --quick-gen-key` makes it; its public key in a file. */
async function device(name: string, expire = 'never'): Promise<{ gnupg: Gnupg; file: string; fingerprint: string }> {
  const gnupg = gnupgHome();
  const made = await gnupg.gpg(['--quick-gen-key', `Alice ${name} <${email}>`, 'future-default', 'default', expire]);
  assert.equal(made.code, 0, made.stderr);
  const exported = await gnupg.gpg(['--armor', '--export', email]);
  const file = join(gnupg.home, `${name}.asc`);
  writeFileSync(file, exported.stdout);
  const colons = (await gnupg.gpg(['--with-colons', '--fingerprint', email])).stdout.toString('utf8');
  return { gnupg, file, fingerprint: /^fpr:+([0-9A-F]+):/m.exec(colons)?.[1] ?? '' };
}

async function decrypts(gnupg: Gnupg, armor: string): Promise<string | null> {
  // From a file, not stdin: gpg exits early when it has no matching key, and a pipe write would then fail (EPIPE).
  const file = join(gnupg.home, `msg-${process.hrtime.bigint()}.asc`);
  writeFileSync(file, armor);
  const result = await gnupg.gpg(['--decrypt', file]);
  return result.code === 0 ? result.stdout.toString('utf8') : null;
}

describe('newcomer flow (README walk-through, real PostgreSQL)', () => {
  let cluster: PgCluster;
  let env: Record<string, string>;
  const devices: Gnupg[] = [];
  const pgpipe = (args: string[], input?: string) => runCli(args, { env, ...(input === undefined ? {} : { input }) });
  const encrypt = async (n: number): Promise<string> => {
    const result = await pgpipe(['encrypt', '--to', email], message(n));
    assert.equal(result.code, 0, result.stderr);
    return extractArmor(result.stdout);
  };

  before(async () => {
    cluster = await startPostgres();
    await cluster.psql('DROP TABLE users; DROP TABLE aliases;'); // an empty database, as after CREATE DATABASE
    env = { PGPIPE_DATABASE_URL: cluster.url };
  });
  after(async () => {
    for (const gnupg of devices) await gnupg.close();
    await cluster.stop();
  });

  it('walks through init, add, encrypt, rotate, second device and key check', async () => {
    const init = await pgpipe(['db', 'init']);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout.toString(), /table\s+users\s+created/);

    const laptop = await device('laptop');
    devices.push(laptop.gnupg);
    const add = await pgpipe(['user', 'add', email, '--key', laptop.file, '--password-stdin'], 'correct horse\n');
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout.toString(), `added ${email} (maildir alice/) with 1 key: ${laptop.fingerprint}\n`);

    const first = await encrypt(1);
    assert.match((await decrypts(laptop.gnupg, first)) ?? '', /secret body number 1/);

    // Rotation: a new laptop key replaces the old one; new mail is for the new key only.
    const newLaptop = await device('new-laptop');
    devices.push(newLaptop.gnupg);
    const set = await pgpipe(['key', 'set', email, newLaptop.file]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout.toString(), new RegExp(`replaced ${laptop.fingerprint}`));
    const second = await encrypt(2);
    assert.match((await decrypts(newLaptop.gnupg, second)) ?? '', /secret body number 2/);
    assert.equal(await decrypts(laptop.gnupg, second), null, 'the rotated-out key still decrypts new mail');

    // A second device: both keys read new mail.
    const phone = await device('phone');
    devices.push(phone.gnupg);
    const addKey = await pgpipe(['key', 'add', email, phone.file]);
    assert.equal(addKey.code, 0, addKey.stderr);
    const third = await encrypt(3);
    assert.match((await decrypts(newLaptop.gnupg, third)) ?? '', /secret body number 3/);
    assert.match((await decrypts(phone.gnupg, third)) ?? '', /secret body number 3/);

    const fine = await pgpipe(['key', 'check']);
    assert.equal(fine.code, 0, fine.stdout.toString());

    // A tablet key that expires in 10 days: key check flags it and exits 1 so cron mails the admin.
    const tablet = await device('tablet', '10d');
    devices.push(tablet.gnupg);
    const addTablet = await pgpipe(['key', 'add', email, tablet.file]);
    assert.equal(addTablet.code, 0, addTablet.stderr);
    assert.match(addTablet.stderr, /^pgpipe: warning: key [0-9A-F]{40} stops encrypting on \d{4}-\d\d-\d\d/);
    const check = await pgpipe(['key', 'check']);
    assert.equal(check.code, 1);
    assert.match(
      check.stdout.toString(),
      new RegExp(
        `${email}\\s+${tablet.fingerprint}\\s+expiring\\s+` +
          `stops encrypting on \\d{4}-\\d\\d-\\d\\d \\(in (9|10) days\\)`,
      ),
    );
    assert.match(check.stdout.toString(), /1 of 3 entries need attention/);

    const show = await pgpipe(['key', 'show', email, '--json']);
    assert.equal(show.code, 0);
    const shown = JSON.parse(show.stdout.toString()) as { keys: { fingerprint: string; usable: boolean }[] };
    assert.deepEqual(
      shown.keys.map((k) => [k.fingerprint, k.usable]),
      [
        [newLaptop.fingerprint, true],
        [phone.fingerprint, true],
        [tablet.fingerprint, true],
      ],
    );
  });
});
