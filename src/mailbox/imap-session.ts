// One pre-authenticated IMAP session as the mail user through `doveadm exec imap` (Dovecot's own imap binary, no
// network, no password). IMAP is what keeps a re-stored message whole in Dovecot's terms: APPEND sets flags,
// keywords and INTERNALDATE (the received date) in the same step that stores it, and answers with its new UID
// (UIDPLUS); UID EXPUNGE removes exactly one message. Commands run one at a time.
import { spawn, type ChildProcess } from 'node:child_process';
import { temporary } from '../errors.js';
import { doveadmArgs, type DovecotTools } from './doveadm.js';

export interface ImapReply {
  /** The untagged responses, each whole (CRLF and literals included). */
  readonly untagged: Buffer[];
  readonly status: 'OK' | 'NO' | 'BAD';
  /** The rest of the tagged line, e.g. `[APPENDUID 1 7] Append completed.` */
  readonly text: string;
}

const CRLF = Buffer.from('\r\n', 'latin1');
/** A line ending in a literal's announcement, `{123}` or `~{123}` (the server never sends `+`). */
const LITERAL_AT_END = /~?\{(\d+)\}$/;

export class ImapSession {
  private readonly child: ChildProcess;
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes the next complete response needs at least (a literal announced but not yet here). */
  private needed = 0;
  private untagged: Buffer[] = [];
  private waiting: { tag: string; resolve: (reply: ImapReply) => void; reject: (error: Error) => void } | null = null;
  private greeting: { resolve: () => void; reject: (error: Error) => void } | null = null;
  private failure: Error | null = null;
  private stderr = '';
  private counter = 0;

  private constructor(tools: DovecotTools, user: string) {
    // imap refuses a socket as stdin ("started from inetd") and Node's stdio pipes are socketpairs: `cat` on both
    // sides gives it real pipes. The user is an argument of sh, never part of the script.
    const doveadm = [tools.doveadm, ...doveadmArgs(tools, ['exec', 'imap', '-u', user])];
    this.child = spawn('sh', ['-c', 'cat | "$@" | cat', 'pgpipe-imap', ...doveadm], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => this.receive(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-2000);
    });
    this.child.stdin?.on('error', () => undefined);
    this.child.on('error', (error) => this.fail(`cannot run ${tools.doveadm}: ${error.message}`));
    this.child.on('close', (code) => this.fail(`the IMAP session ended (${code ?? 'signal'})`));
  }

  /** Starts the session and waits for Dovecot's PREAUTH greeting. */
  static async open(tools: DovecotTools, user: string): Promise<ImapSession> {
    const session = new ImapSession(tools, user);
    await new Promise<void>((resolve, reject) => {
      session.greeting = { resolve, reject };
    });
    return session;
  }

  /**
   * Sends one command (the tag is added) and waits for its tagged reply. `parts` alternate text and literals; each
   * literal goes as `~{N+}` (literal8 with LITERAL+, RFC 3516/7888: no round trip, and a NUL is allowed).
   */
  command(...parts: (string | Buffer)[]): Promise<ImapReply> {
    if (this.failure !== null) return Promise.reject(this.failure);
    this.counter += 1;
    const tag = `p${this.counter}`;
    const chunks: Buffer[] = [Buffer.from(`${tag} `, 'latin1')];
    for (const part of parts) {
      if (typeof part === 'string') chunks.push(Buffer.from(part, 'latin1'));
      else chunks.push(Buffer.from(`~{${part.length}+}\r\n`, 'latin1'), part);
    }
    chunks.push(CRLF);
    return new Promise<ImapReply>((resolve, reject) => {
      this.waiting = { tag, resolve, reject };
      for (const chunk of chunks) this.child.stdin?.write(chunk);
    });
  }

  /** Like command(), but anything except OK is an error naming `what`. */
  async ok(what: string, ...parts: (string | Buffer)[]): Promise<ImapReply> {
    const reply = await this.command(...parts);
    if (reply.status !== 'OK') throw temporary('dovecot.failed', `${what}: ${reply.status} ${reply.text}`);
    return reply;
  }

  async close(): Promise<void> {
    if (this.failure === null) await this.command('LOGOUT').catch(() => undefined);
    this.child.stdin?.end();
  }

  private fail(why: string): void {
    if (this.failure !== null) return;
    const said = this.stderr.split('\n').find((line) => /error|fatal|panic/i.test(line));
    this.failure = temporary('dovecot.failed', `${why}${said ? `: ${said.trim()}` : ''}`);
    this.greeting?.reject(this.failure);
    this.waiting?.reject(this.failure);
    this.greeting = null;
    this.waiting = null;
  }

  private receive(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return; // a large literal still arriving: no copying until it is whole
    let data = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.chunks.length = 0;
    this.needed = 0;
    let start = 0;
    let scan = 0;
    for (;;) {
      const lf = data.indexOf(0x0a, scan);
      if (lf === -1) break;
      const line = data.subarray(scan, lf > scan && data[lf - 1] === 0x0d ? lf - 1 : lf).toString('latin1');
      const literal = LITERAL_AT_END.exec(line);
      if (literal !== null) {
        const end = lf + 1 + Number(literal[1]);
        if (end > data.length) {
          this.needed = end - start;
          break;
        }
        scan = end; // the response goes on after the literal
        continue;
      }
      this.response(data.subarray(start, lf + 1));
      start = lf + 1;
      scan = start;
    }
    data = data.subarray(start);
    this.buffered = data.length;
    if (data.length > 0) this.chunks.push(Buffer.from(data)); // a copy: the consumed part may be released
  }

  private response(raw: Buffer): void {
    const head = raw.subarray(0, Math.min(raw.length, 200)).toString('latin1');
    if (head.startsWith('* ')) {
      if (this.greeting !== null) {
        if (/^\* PREAUTH/i.test(head)) this.greeting.resolve();
        else this.greeting.reject(temporary('dovecot.failed', `unexpected IMAP greeting: ${head.trim()}`));
        this.greeting = null;
        return;
      }
      this.untagged.push(raw);
      return;
    }
    const waiting = this.waiting;
    if (waiting === null || !head.startsWith(`${waiting.tag} `)) return; // '+' continuations and strays
    const rest = head.slice(waiting.tag.length + 1).trim();
    const status = rest.split(' ', 1)[0]?.toUpperCase();
    this.waiting = null;
    const untagged = this.untagged;
    this.untagged = [];
    waiting.resolve({
      untagged,
      status: status === 'OK' || status === 'NO' ? status : 'BAD',
      text: rest.slice((status ?? '').length).trim(),
    });
  }
}
