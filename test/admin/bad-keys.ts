// Every kind of key issue item 4 must refuse, each with the exact start of its one-line reason.
// Keys are generated at test time (test/helpers/keys.ts), so none of these silently expire.
import { makeKey } from '../helpers/keys.js';

export interface BadKey {
  readonly name: string;
  readonly input: (email: string) => Promise<string | Buffer>;
  readonly reason: RegExp;
}

const FPR = '[0-9A-F]{40}';

export const BAD_KEYS: readonly BadKey[] = [
  {
    name: 'a private key pasted by mistake',
    input: async (email) => (await makeKey({ kind: 'curve25519', email })).privateArmored,
    reason:
      /^this is a PRIVATE key: never hand it to the server; paste the public half instead \(gpg --export --armor \S+\)$/,
  },
  {
    name: 'text without any key',
    input: async () => 'my key is 0xDEADBEEF, look it up\n',
    reason:
      /^not an OpenPGP public key: no "-----BEGIN PGP PUBLIC KEY BLOCK-----" found \(export it with gpg --export --armor \S+\)$/,
  },
  {
    name: 'a damaged key block',
    input: async (email) => {
      const lines = (await makeKey({ kind: 'curve25519', email })).publicArmored.split('\n');
      return lines.map((line, i) => (i === 3 ? line.replace(/[A-Za-z]/g, 'Q') : line)).join('\n');
    },
    reason: /^unparsable key: the PGP PUBLIC KEY BLOCK does not parse \(damaged, truncated or edited\?\)$/,
  },
  {
    name: 'an expired key',
    input: async (email) => (await makeKey({ kind: 'curve25519', email, expired: true })).publicArmored,
    reason: new RegExp(
      `^key ${FPR} expired on \\d{4}-\\d\\d-\\d\\d: ` +
        `extend it \\(gpg --quick-set-expire ${FPR} 1y\\) and export it again$`,
    ),
  },
  {
    name: 'a revoked key',
    input: async (email) => (await makeKey({ kind: 'curve25519', email, revoked: true })).publicArmored,
    reason: new RegExp(`^key ${FPR} is revoked: its owner withdrew it; ask for their current key$`),
  },
  {
    name: 'a sign-only key (no encryption subkey)',
    input: async (email) => (await makeKey({ kind: 'curve25519', email, signOnly: true })).publicArmored,
    reason: new RegExp(
      `^key ${FPR} has no usable encryption subkey \\(sign-only, or its encryption subkeys expired or were revoked\\)$`,
    ),
  },
  {
    name: 'RSA 1024',
    input: async (email) => (await makeKey({ kind: 'rsa1024', email })).publicArmored,
    reason: new RegExp(
      `^key ${FPR} is too weak \\(RSA 1024 bits is below 2048\\): generate an RSA 3072 or Curve25519 key$`,
    ),
  },
  {
    name: 'DSA/ElGamal',
    input: async (email) => (await makeKey({ kind: 'dsa', email })).publicArmored,
    reason: new RegExp(
      `^key ${FPR} uses DSA/ElGamal \\([^)]*\\), which pgpipe cannot encrypt to: ` +
        `generate an RSA 3072 or Curve25519 key$`,
    ),
  },
  {
    name: 'a v6 key',
    input: async (email) => (await makeKey({ kind: 'curve25519', email, v6: true })).publicArmored,
    reason:
      /^key [0-9A-F]{64} is a v6 \(RFC 9580\) key that GnuPG 2\.2 clients cannot use, and pgpipe encrypts only to v4 keys: export a v4 key$/,
  },
  {
    name: 'a v4 key with an RFC 9580 X25519 encryption subkey',
    input: async (email) => (await makeKey({ kind: 'x25519', email })).publicArmored,
    reason: new RegExp(
      `^key ${FPR} encrypts only to an x25519 \\(RFC 9580\\) subkey that GnuPG 2\\.2 clients cannot use: ` +
        'add a cv25519 or RSA 3072 encryption subkey \\(gpg --quick-add-key FPR cv25519 encr\\)$',
    ),
  },
  {
    name: 'a v4 key with an RFC 9580 X448 encryption subkey',
    input: async (email) => (await makeKey({ kind: 'x448', email })).publicArmored,
    reason: new RegExp(
      `^key ${FPR} encrypts only to an x448 \\(RFC 9580\\) subkey that GnuPG 2\\.2 clients cannot use: `,
    ),
  },
  {
    name: 'a key without a user ID for the address',
    input: async () => (await makeKey({ kind: 'curve25519', email: 'someone.else@elsewhere.example' })).publicArmored,
    reason: new RegExp(
      `^no user ID of key ${FPR} carries \\S+ \\(it has: someone\\.else@elsewhere\\.example\\); ` +
        `use --allow-other-uid to store it anyway$`,
    ),
  },
];
