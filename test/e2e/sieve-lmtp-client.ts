// The few LMTP lines (RFC 2033) the Sieve test needs, over a unix socket: LHLO, MAIL, RCPT, DATA with
// dot-stuffing, and one reply per accepted recipient after the final dot. Test code; no pipelining.
import { connect } from 'node:net';

export interface LmtpResult {
  /** The reply to each RCPT after DATA (e.g. `250 2.0.0 <bob@e2e.test> ... Saved`), in RCPT order. */
  readonly replies: readonly string[];
}

export function sendLmtp(
  socketPath: string,
  from: string,
  to: readonly string[],
  message: Buffer,
): Promise<LmtpResult> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let buffer = '';
    const waiting: ((line: string) => void)[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('LMTP timeout'));
    }, 60_000);
    socket.setEncoding('latin1');
    // A reply is complete at its last line ("250 ..." rather than "250-...").
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const match = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(buffer);
        if (match === null) break;
        buffer = buffer.slice(match[0].length);
        const lines = match[0].trimEnd().split(/\r?\n/);
        waiting.shift()?.(lines[lines.length - 1] ?? '');
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    const reply = (): Promise<string> => new Promise((r) => waiting.push(r));
    const expect = async (code: string, what: string): Promise<void> => {
      const line = await reply();
      if (!line.startsWith(code)) throw new Error(`LMTP ${what}: ${line}`);
    };
    const send = (text: string | Buffer): void => {
      socket.write(text);
    };
    (async () => {
      await expect('220', 'greeting');
      send('LHLO test.example\r\n');
      await expect('250', 'LHLO');
      send(`MAIL FROM:<${from}>\r\n`);
      await expect('250', 'MAIL');
      for (const rcpt of to) {
        send(`RCPT TO:<${rcpt}>\r\n`);
        await expect('250', 'RCPT');
      }
      send('DATA\r\n');
      await expect('354', 'DATA');
      const crlf = message.toString('latin1').replace(/\r?\n/g, '\r\n');
      const stuffed = crlf.replace(/^\./gm, '..');
      send(Buffer.from(`${stuffed}${stuffed.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'latin1'));
      const replies: string[] = [];
      for (let i = 0; i < to.length; i++) replies.push(await reply());
      send('QUIT\r\n');
      await reply().catch(() => undefined);
      clearTimeout(timer);
      socket.end();
      resolve({ replies });
    })().catch((error: unknown) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}
