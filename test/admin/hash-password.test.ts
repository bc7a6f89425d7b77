// SHA-512-crypt against the spec's test vectors, glibc crypt(3) (via perl) and Dovecot's own verifier.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { checkPasswordHash, hashPassword, randomSalt, sha512Crypt } from '../../src/admin/hash-password.js';

// Drepper, "Unix crypt using SHA-256 and SHA-512", test vectors for SHA-512.
const VECTORS: readonly [string, string | undefined, string, string][] = [
  [
    'saltstring',
    undefined,
    'Hello world!',
    '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
  ],
  [
    'saltstringsaltstring',
    '10000',
    'Hello world!',
    '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
  ],
  [
    'toolongsaltstring',
    '5000',
    'This is just a test',
    '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
  ],
  [
    'anotherlongsaltstring',
    '1400',
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  ],
  [
    'short',
    '77777',
    'we have a short salt string but not a short password',
    '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
  ],
  [
    'asaltof16chars..',
    '123456',
    'a short string',
    '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1',
  ],
  [
    'roundstoolow',
    '10',
    'the minimum number is still observed',
    '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.',
  ],
];

describe('sha512Crypt', () => {
  for (const [salt, rounds, password, expected] of VECTORS) {
    it(`matches the spec vector for salt "${salt}"${rounds ? ` rounds=${rounds}` : ''}`, () => {
      assert.equal(sha512Crypt(password, salt, rounds === undefined ? undefined : Number(rounds)), expected);
    });
  }

  it('agrees with glibc crypt(3) for UTF-8, long and 1-byte passwords', () => {
    for (const password of [
      'pässwörd ☃',
      'x',
      'a'.repeat(200),
      'exactly-64-bytes-long-password-exactly-64-bytes-long-passwor..',
    ]) {
      const salt = randomSalt();
      const perl = spawnSync(
        'perl',
        ['-e', 'binmode STDIN; local $/; my $p = <STDIN>; print crypt($p, $ARGV[0])', `$6$${salt}`],
        { input: Buffer.from(password, 'utf8') },
      );
      assert.equal(perl.status, 0);
      assert.equal(sha512Crypt(password, salt), perl.stdout.toString('latin1'));
    }
  });
});

describe('hashPassword', () => {
  it('is verified by Dovecot (doveadm pw -t) and rejected for a wrong password', () => {
    const hash = hashPassword('correct horse battery staple');
    assert.match(hash, /^\{SHA512-CRYPT\}\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    const ok = spawnSync('doveadm', ['pw', '-t', hash, '-p', 'correct horse battery staple'], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /\(verified\)/);
    const bad = spawnSync('doveadm', ['pw', '-t', hash, '-p', 'correct horse battery stapler'], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
  });

  it('uses a fresh salt each time', () => {
    assert.notEqual(hashPassword('same'), hashPassword('same'));
  });

  it('refuses an empty password and one with a line break', () => {
    assert.throws(() => hashPassword(''), { message: 'the password is empty' });
    assert.throws(() => hashPassword('a\nb'), { message: 'the password contains a NUL or line break' });
  });
});

describe('checkPasswordHash', () => {
  it('accepts doveadm output and other salted schemes', () => {
    const hash = hashPassword('pw');
    assert.equal(checkPasswordHash(hash), hash);
    assert.equal(
      checkPasswordHash('{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuu'),
      '{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuu',
    );
  });

  it('refuses a bare hash, unsalted and plain schemes, and malformed SHA512-CRYPT', () => {
    assert.throws(() => checkPasswordHash('$6$abc$def'), /needs a \{SCHEME\} prefix/);
    assert.throws(
      () =>
        checkPasswordHash(
          '{SHA512}NieQminDE4Ggcewn98nKl3Jhgq7Smn3dLlQ1MyLPswq7njpt8qwsIP4jQ2MR1nhWTQyNMFkwV19g4tPQSBhNeQ==',
        ),
      /\{SHA512\} is not a salted scheme/,
    );
    assert.throws(() => checkPasswordHash('{PLAIN}secret'), /\{PLAIN\} is not a salted scheme/);
    assert.throws(() => checkPasswordHash('{SHA512-CRYPT}$6$salt$short'), /malformed/);
    assert.throws(() => checkPasswordHash('{SHA512-CRYPT} $6$x'), /whitespace/);
  });
});
