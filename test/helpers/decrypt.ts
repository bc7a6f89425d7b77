// Reading pgpipe's output the way real clients do: RFC 3156 structure check, then decryption with GnuPG, RNP,
// Sequoia (sq) and OpenPGP.js. Each tool gets a fresh temp keyring dir that is removed afterwards, even on failure.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { fieldsNamed, fieldValue, paramIsQuoted, parseContentType, splitMultipart, splitRaw } from './raw-mime.js';
import type { RawField } from './raw-mime.js';

export interface PgpMime {
  /** A leading mbox `From ` envelope line kept before the header (null when none). */
  readonly envelope: Buffer | null;
  /** The outer header fields in order, raw. */
  readonly outerHeaders: readonly RawField[];
  /** The ASCII armor from the application/octet-stream part, `-----BEGIN PGP MESSAGE-----`…`END…-----`. */
  readonly armor: string;
}

const BEGIN = '-----BEGIN PGP MESSAGE-----';
const END = '-----END PGP MESSAGE-----';

/**
 * Asserts the RFC 3156 §4 layout: top-level multipart/encrypted with protocol="application/pgp-encrypted" (quoted),
 * exactly two body parts, the first application/pgp-encrypted holding "Version: 1", the second
 * application/octet-stream holding the armor. Throws an AssertionError naming the first deviation.
 */
export function parsePgpMime(output: Buffer): PgpMime {
  const msg = splitRaw(output);
  assert.ok(msg.hasSeparator, 'output has no header/body separator');
  const types = fieldsNamed(msg, 'content-type');
  assert.equal(types.length, 1, 'exactly one outer Content-Type');
  const typeField = types[0] as RawField;
  const ct = parseContentType(fieldValue(typeField));
  assert.equal(ct.type, 'multipart/encrypted', 'outer Content-Type');
  assert.equal(ct.params.protocol, 'application/pgp-encrypted', 'protocol parameter');
  assert.ok(paramIsQuoted(typeField.raw.toString('latin1'), 'protocol'), 'RFC 3156: protocol value MUST be quoted');
  const boundary = ct.params.boundary;
  assert.ok(boundary, 'outer boundary parameter');
  assert.equal(fieldsNamed(msg, 'mime-version').length, 1, 'exactly one MIME-Version');

  const { parts, closed } = splitMultipart(msg.body, boundary);
  assert.ok(closed, 'closing boundary present');
  assert.equal(parts.length, 2, 'RFC 3156: exactly two body parts');
  const [control, data] = parts.map(splitRaw) as [ReturnType<typeof splitRaw>, ReturnType<typeof splitRaw>];

  const controlType = fieldsNamed(control, 'content-type')[0];
  assert.ok(controlType, 'first part has a Content-Type');
  assert.equal(parseContentType(fieldValue(controlType)).type, 'application/pgp-encrypted', 'first part type');
  assert.match(control.body.toString('latin1'), /^Version: 1\r?$/m, 'first part contains "Version: 1"');

  const dataType = fieldsNamed(data, 'content-type')[0];
  assert.ok(dataType, 'second part has a Content-Type');
  assert.equal(parseContentType(fieldValue(dataType)).type, 'application/octet-stream', 'second part type');
  const cte = fieldsNamed(data, 'content-transfer-encoding')[0];
  if (cte) assert.match(fieldValue(cte), /^7bit$/i, 'armor part is not transfer-encoded');
  const text = data.body.toString('latin1').trim();
  assert.ok(text.startsWith(BEGIN), 'second part starts with the armor header line');
  assert.ok(text.endsWith(END), 'second part ends with the armor tail line');
  return { envelope: msg.envelope, outerHeaders: msg.fields, armor: text };
}

/** The armored OpenPGP message of a PGP/MIME message (structure asserted by parsePgpMime). */
export const extractArmor = (pgpMime: Buffer): string => parsePgpMime(pgpMime).armor;

const armorOf = (input: string | Buffer): string => {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  return text.trimStart().startsWith(BEGIN) ? text : extractArmor(Buffer.from(text, 'latin1'));
};

interface RunResult {
  readonly stdout: Buffer;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout: Buffer.concat(out), stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? code}): ${stderr.trim()}`));
    });
    child.stdin.on('error', () => {}); // the tool may exit before reading everything; the exit code tells
    child.stdin.end(options.input ?? '');
  });
}

async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o700);
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A fresh private directory holding the key as `key.asc` (mode 0600), for the tools that read a key file. */
function withKeyFile<T>(
  prefix: string,
  privateArmored: string,
  fn: (dir: string, keyFile: string) => Promise<T>,
): Promise<T> {
  return withTempDir(prefix, async (dir) => {
    const keyFile = join(dir, 'key.asc');
    await writeFile(keyFile, privateArmored, { mode: 0o600 });
    return fn(dir, keyFile);
  });
}

/** GnuPG 2.2: fresh GNUPGHOME, import the (unprotected) secret key, --batch --decrypt; the agent is killed after. */
export function decryptWithGpg(armoredOrPgpMime: string | Buffer, privateArmored: string): Promise<Buffer> {
  const armor = armorOf(armoredOrPgpMime);
  return withTempDir('pgpipe-dec-gpg-', async (home) => {
    const env = { GNUPGHOME: home };
    try {
      await run('gpg', ['--batch', '--no-tty', '--quiet', '--import'], { input: privateArmored, env });
      const decrypt = () =>
        run('gpg', ['--batch', '--no-tty', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', '--decrypt'], {
          input: armor,
          env,
        });
      // NOTE: on a heavily loaded machine the freshly started gpg-agent can be late to answer; that is the
      // machine, not the message, so it gets one more try. Any other failure is reported at once.
      const { stdout } = await decrypt().catch((error: Error) => {
        if (/agent|IPC/i.test(error.message)) return decrypt();
        throw error;
      });
      return stdout;
    } finally {
      await run('gpgconf', ['--kill', 'gpg-agent'], { env }).catch(() => undefined);
    }
  });
}

/** `gpg --list-packets` of an armored message (no keys needed for the outer packets). */
export function listPacketsWithGpg(armor: string): Promise<string> {
  return withTempDir('pgpipe-dec-gpg-', async (home) => {
    const env = { GNUPGHOME: home };
    try {
      // Without the secret key gpg exits 2 after listing; the listing on stdout is what we want.
      const result = await new Promise<string>((resolve, reject) => {
        // --no-autostart: listing needs no secret key, so no agent (one less moving part under load).
        const child = spawn('gpg', ['--batch', '--no-tty', '--no-autostart', '--list-packets'], {
          env: { ...process.env, ...env },
        });
        const out: Buffer[] = [];
        child.stdout.on('data', (c: Buffer) => out.push(c));
        child.stderr.resume();
        child.on('error', reject);
        child.on('close', () => resolve(Buffer.concat(out).toString('utf8')));
        child.stdin.end(armor);
      });
      return result;
    } finally {
      await run('gpgconf', ['--kill', 'gpg-agent'], { env }).catch(() => undefined);
    }
  });
}

/** RNP 0.16: `rnp --homedir EMPTY --keyfile KEY --decrypt`, message on stdin. */
export function decryptWithRnp(armoredOrPgpMime: string | Buffer, privateArmored: string): Promise<Buffer> {
  const armor = armorOf(armoredOrPgpMime);
  return withKeyFile('pgpipe-dec-rnp-', privateArmored, async (dir, keyFile) => {
    const { stdout } = await run(
      'rnp',
      ['--homedir', dir, '--keyfile', keyFile, '--notty', '--decrypt', '--output', '-'],
      { input: armor },
    );
    return stdout;
  });
}

/** Sequoia sq 0.27: `sq decrypt --recipient-key KEY` (message on stdin, plaintext on stdout). */
export function decryptWithSq(armoredOrPgpMime: string | Buffer, privateArmored: string): Promise<Buffer> {
  const armor = armorOf(armoredOrPgpMime);
  return withKeyFile('pgpipe-dec-sq-', privateArmored, async (dir, keyFile) => {
    // HOME points into the temp dir so sq never touches a real ~/.local/share/sequoia.
    const { stdout } = await run('sq', ['decrypt', '--recipient-key', keyFile], { input: armor, env: { HOME: dir } });
    return stdout;
  });
}

/** Sequoia's Stateless OpenPGP frontend: `sqop decrypt KEY`. */
export function decryptWithSqop(armoredOrPgpMime: string | Buffer, privateArmored: string): Promise<Buffer> {
  const armor = armorOf(armoredOrPgpMime);
  return withKeyFile('pgpipe-dec-sqop-', privateArmored, async (dir, keyFile) => {
    const { stdout } = await run('sqop', ['decrypt', keyFile], { input: armor, env: { HOME: dir } });
    return stdout;
  });
}

/** OpenPGP.js 6 with default config (what webmail clients built on it accept). */
export async function decryptWithOpenpgpJs(armoredOrPgpMime: string | Buffer, privateArmored: string): Promise<Buffer> {
  const message = await openpgp.readMessage({ armoredMessage: armorOf(armoredOrPgpMime) });
  const privateKey = await openpgp.readPrivateKey({ armoredKey: privateArmored });
  const { data } = await openpgp.decrypt({ message, decryptionKeys: privateKey, format: 'binary' });
  return Buffer.from(data);
}

export type Decryptor = (armoredOrPgpMime: string | Buffer, privateArmored: string) => Promise<Buffer>;

export const DECRYPTORS: Readonly<Record<'gpg' | 'rnp' | 'sq' | 'sqop' | 'openpgp.js', Decryptor>> = {
  gpg: decryptWithGpg,
  rnp: decryptWithRnp,
  sq: decryptWithSq,
  sqop: decryptWithSqop,
  'openpgp.js': decryptWithOpenpgpJs,
};
