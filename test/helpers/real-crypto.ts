// Real S/MIME and OpenPGP bodies for the protection tests, made at test time with openssl and gpg in a throwaway
// directory (nothing committed, nothing expires). Only the base64/armored bodies are returned; keys stay in /tmp.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RealCrypto {
  /** base64 DER bodies (76-col lines) of `openssl smime`/`cms` output. */
  readonly smimeEnveloped: string;
  readonly smimeAuthEnveloped: string;
  /** `openssl cms -encrypt -stream`: BER with indefinite lengths and a chunked encryptedContent (as NSS writes). */
  readonly smimeEnvelopedStreamed: string;
  readonly smimeSigned: string;
  readonly smimeCertsOnly: string;
  /** Hand-built CMS compressedData header (OpenSSL here lacks zlib): `30 80 06 0b <1.2.840.113549.1.9.16.1.9>`. */
  readonly smimeCompressed: string;
  /** OpenPGP: armored and binary (base64 of the raw bytes) output of gpg. */
  readonly pgpEncryptedArmor: string;
  readonly pgpEncryptedBinaryB64: string;
  readonly pgpSymmetricArmor: string;
  readonly pgpSignedArmor: string;
  readonly pgpSignedBinaryB64: string;
  /** `gpg --store --armor`: a literal packet, readable by anyone. */
  readonly pgpStoredArmor: string;
  /** `gpg --export --armor`: a public key block (user IDs in clear). */
  readonly pgpPublicKeyArmor: string;
  /** `gpg --clearsign`: a cleartext signature. */
  readonly pgpClearsigned: string;
  /** `gpg --encrypt --sign --armor`: encrypted (the signature is inside the encryption). */
  readonly pgpEncryptedSignedArmor: string;
}

const b64Lines = (bytes: Buffer): string => `${bytes.toString('base64').replace(/.{76}/g, '$&\n')}\n`;

/** The body (after the first blank line) of openssl's MIME output. */
const mimeBody = (mime: string): string => mime.slice(mime.search(/\r?\n\r?\n/)).trimStart();

let cached: RealCrypto | undefined;

export function realCrypto(): RealCrypto {
  if (cached !== undefined) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'pgpipe-msg-crypto-'));
  try {
    const run = (cmd: string, args: string[], input?: string | Buffer): Buffer =>
      execFileSync(cmd, args, {
        cwd: dir,
        input,
        stdio: ['pipe', 'pipe', 'ignore'],
        env: { ...process.env, GNUPGHOME: join(dir, 'gnupg') },
      });
    const content = 'Content-Type: text/plain\r\n\r\nConfidential: the merger closes Friday.\r\n';
    writeFileSync(join(dir, 'in.txt'), content);
    run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'k.pem',
      '-out',
      'c.pem',
      '-subj',
      '/CN=t',
      '-days',
      '2',
    ]);
    const smime = (args: string[]): string => mimeBody(run('openssl', args).toString('latin1'));
    const certsOnly = run('openssl', ['crl2pkcs7', '-nocrl', '-certfile', 'c.pem', '-outform', 'DER']);
    run('mkdir', ['-m', '700', 'gnupg']);
    run('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 't@example.org', 'ed25519', 'sign', '0']);
    const fpr = /^fpr:+([0-9A-F]+):/m.exec(
      run('gpg', ['--with-colons', '--list-keys', 't@example.org']).toString(),
    )?.[1];
    if (fpr === undefined) throw new Error('gpg key generation failed');
    run('gpg', ['--batch', '--passphrase', '', '--quick-add-key', fpr, 'cv25519', 'encr', '0']);
    const enc = ['--batch', '--trust-model', 'always', '--encrypt', '-r', 't@example.org'];
    const sign = ['--batch', '--passphrase', '', '--pinentry-mode', 'loopback', '--sign'];
    cached = {
      smimeEnveloped: smime(['smime', '-encrypt', '-aes256', '-in', 'in.txt', 'c.pem']),
      smimeAuthEnveloped: smime(['cms', '-encrypt', '-aes-256-gcm', '-in', 'in.txt', '-recip', 'c.pem']),
      smimeSigned: smime(['smime', '-sign', '-nodetach', '-in', 'in.txt', '-signer', 'c.pem', '-inkey', 'k.pem']),
      smimeCertsOnly: b64Lines(certsOnly),
      smimeCompressed: b64Lines(Buffer.from('3080060b2a864886f70d0109100109a080308002010030', 'hex')),
      pgpEncryptedArmor: run('gpg', ['--armor', ...enc], content).toString('latin1'),
      pgpEncryptedBinaryB64: b64Lines(run('gpg', enc, content)),
      pgpSymmetricArmor: run('gpg', ['--batch', '--passphrase', 'x', '--armor', '--symmetric'], content).toString(
        'latin1',
      ),
      pgpSignedArmor: run('gpg', ['--armor', ...sign], content).toString('latin1'),
      pgpSignedBinaryB64: b64Lines(run('gpg', sign, content)),
      smimeEnvelopedStreamed: smime(['cms', '-encrypt', '-stream', '-aes256', '-in', 'in.txt', '-recip', 'c.pem']),
      pgpStoredArmor: run('gpg', ['--batch', '--armor', '-z', '0', '--store'], content).toString('latin1'),
      pgpPublicKeyArmor: run('gpg', ['--armor', '--export', 't@example.org']).toString('latin1'),
      pgpClearsigned: run(
        'gpg',
        ['--batch', '--passphrase', '', '--pinentry-mode', 'loopback', '--clearsign'],
        content,
      ).toString('latin1'),
      pgpEncryptedSignedArmor: run(
        'gpg',
        ['--armor', ...enc, '--sign', '--passphrase', '', '--pinentry-mode', 'loopback'],
        content,
      ).toString('latin1'),
    };
    return cached;
  } finally {
    try {
      execFileSync('gpgconf', ['--kill', 'gpg-agent'], {
        env: { ...process.env, GNUPGHOME: join(dir, 'gnupg') },
        stdio: 'ignore',
      });
    } catch {
      // no agent was started
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
