// Reads what the admin hands in: a key file (or `-` for stdin) and a password line from stdin.
// The only file/stdin I/O of the admin commands; passwords never come from argv.
import { readFile } from 'node:fs/promises';
import { permanent } from '../errors.js';

const MAX_KEY_BYTES = 1_048_576; // a public key with many signatures is rarely over 100 kB

export async function readKeyFile(path: string, stdin: NodeJS.ReadableStream): Promise<Buffer> {
  let data: Buffer;
  if (path === '-') data = await readStream(stdin, MAX_KEY_BYTES + 1);
  else {
    try {
      data = await readFile(path);
    } catch (error) {
      throw permanent('usage', `cannot read key file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (data.length > MAX_KEY_BYTES)
    throw permanent(
      'key.invalid',
      `key file is over ${MAX_KEY_BYTES} bytes; export only the public key (gpg --export --armor EMAIL)`,
    );
  if (data.length === 0)
    throw permanent(
      'key.invalid',
      `not an OpenPGP public key: the key ${path === '-' ? 'on stdin' : `file ${path}`} is empty`,
    );
  return data;
}

/**
 * The first line of stdin (without its line ending), e.g.
 * `printf '%s\n' "$PW" | pgpipe user add ... --password-stdin`.
 */
export async function readPasswordLine(stdin: NodeJS.ReadableStream): Promise<string> {
  const data = (await readStream(stdin, 4097)).toString('utf8');
  const line = data.split(/\r?\n/)[0] ?? '';
  if (line.length > 4096) throw permanent('usage', 'the password on stdin is longer than 4096 characters');
  return line;
}

async function readStream(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    chunks.push(buf);
    size += buf.length;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks);
}
