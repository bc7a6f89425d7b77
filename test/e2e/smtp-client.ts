// A minimal SMTP client for the e2e test (loopback only): EHLO, AUTH PLAIN, MAIL FROM (null sender allowed), RCPT
// TO, DATA with dot-stuffing or BDAT, QUIT. Every reply is checked; every wait is bounded.
import { connect } from 'node:net';

export interface Submission {
  readonly port: number;
  /** '' for the null sender (a bounce). */
  readonly from: string;
  readonly to: readonly string[];
  /** The message; LF or CRLF line endings. */
  readonly data: Buffer | string;
  /** SASL login (AUTH PLAIN) after EHLO, as a mail client on the submission port does. */
  readonly auth?: { readonly user: string; readonly password: string };
  /** Send the message with BDAT (RFC 3030 CHUNKING, one LAST chunk) instead of DATA. */
  readonly bdat?: boolean;
}

/** Sends one message; resolves with the final "250 ... queued as ID" reply, rejects on any unexpected reply. */
export function sendMail(submission: Submission, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: submission.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('SMTP conversation timed out'));
    }, timeoutMs);
    let buffer = '';
    const waiting: ((line: string) => void)[] = [];
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      // A reply is complete at a line "NNN text" (space, not dash, after the code).
      while ((end = buffer.search(/^\d{3} [^\n]*\n/m)) !== -1) {
        const nl = buffer.indexOf('\n', end);
        const reply = buffer.slice(0, nl + 1);
        buffer = buffer.slice(nl + 1);
        waiting.shift()?.(reply.trimEnd());
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    const reply = (): Promise<string> => new Promise((r) => waiting.push(r));
    const expect = async (code: string, send?: string): Promise<string> => {
      const pending = reply();
      if (send !== undefined) socket.write(send);
      const text = await pending;
      if (!text.split('\n').at(-1)?.startsWith(code))
        throw new Error(`SMTP: expected ${code} after ${send?.trim() ?? 'connect'}, got: ${text}`);
      return text;
    };
    (async () => {
      await expect('220');
      await expect('250', 'EHLO client.e2e.test\r\n');
      if (submission.auth !== undefined) {
        const { user, password } = submission.auth;
        await expect('235', `AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}\r\n`);
      }
      await expect('250', `MAIL FROM:<${submission.from}>\r\n`);
      for (const rcpt of submission.to) await expect('250', `RCPT TO:<${rcpt}>\r\n`);
      const text = Buffer.from(submission.data).toString('latin1').replace(/\r?\n/g, '\r\n');
      let queued: string;
      if (submission.bdat === true) {
        queued = await expect('250', `BDAT ${Buffer.byteLength(text, 'latin1')} LAST\r\n${text}`);
      } else {
        await expect('354', 'DATA\r\n');
        const stuffed = text.replace(/^\./gm, '..');
        queued = await expect('250', `${stuffed}${stuffed.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
      }
      await expect('221', 'QUIT\r\n');
      return queued;
    })().then(
      (queued) => {
        clearTimeout(timer);
        socket.end();
        resolve(queued);
      },
      (error: unknown) => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      },
    );
  });
}

/** The queue id from "250 2.0.0 Ok: queued as 4XkQ2t1Lz9z9". */
export const queueIdOf = (reply: string): string => /queued as (\S+)/.exec(reply)?.[1] ?? '';
