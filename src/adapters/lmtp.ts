// The Lmtp port on nodemailer's SMTP/LMTP client: one connection and one transaction per call, per-recipient
// answers back. nodemailer is loaded only when a message is handed over (it is not on filter's start path).
// Never throws: anything but a per-recipient answer for everyone is { kind: 'failed' }, which defers.
import { isAscii } from 'node:buffer';
import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { SmtpError } from 'nodemailer/lib/smtp-connection/index.js';
import { parseReply } from '../deliver/lmtp-replies.js';
import type { Lmtp, LmtpReply, LmtpResult } from '../deliver/ports.js';
import { oneLine } from '../mail-path/outcome.js';

let clientModule: Promise<typeof import('nodemailer/lib/smtp-connection/index.js')> | undefined;

export type LmtpTarget = { readonly path: string } | { readonly host: string; readonly port: number };

/** `unix:/path` or `inet:host:port` (the forms Postfix's own lmtp(8) takes). */
export function parseLmtpAddress(address: string): LmtpTarget | null {
  if (address.startsWith('unix:/')) return { path: address.slice('unix:'.length) };
  const inet = /^inet:([^\s:]+):(\d{1,5})$/.exec(address);
  if (inet === null) return null;
  const port = Number(inet[2]);
  return port > 0 && port < 65536 ? { host: inet[1] as string, port } : null;
}

/** A short, content-free description of a failed session (nodemailer's message may carry the server's reply). */
function describe(stage: string, error: SmtpError): string {
  const response = error.response === undefined ? '' : `: ${error.response.split(/\r?\n/, 1)[0] ?? ''}`;
  const what = error.response === undefined ? (error.code ?? error.message) : (error.command ?? error.code ?? 'error');
  return oneLine(`LMTP ${stage} ${what}${response}`, 200);
}

/**
 * Per-recipient answers from one finished transaction: nodemailer lists the refused ones (at RCPT TO or in the
 * per-recipient replies after DATA) with the server's reply, and the accepted ones by address only.
 */
export function repliesOf(
  recipients: readonly string[],
  accepted: readonly string[],
  refused: readonly SmtpError[],
): LmtpReply[] {
  return recipients.map((recipient) => {
    const error = refused.find((e) => e.recipient === recipient);
    if (error !== undefined) return parseReply(recipient, error.response ?? '');
    if (accepted.includes(recipient)) return { recipient, code: 250, enhanced: null, text: 'accepted' };
    return { recipient, code: 0, enhanced: null, text: 'no answer for this recipient' };
  });
}

export function createLmtp(config: { readonly lmtp?: string | undefined }): Lmtp {
  return {
    async deliver(payload, envelope, signal) {
      const address = config.lmtp ?? '';
      const target = parseLmtpAddress(address);
      if (target === null)
        return { kind: 'failed', reason: 'no LMTP address configured (--lmtp unix:/path or inet:host:port)' };
      const { default: Client } = await (clientModule ??= import('nodemailer/lib/smtp-connection/index.js'));
      return new Promise<LmtpResult>((resolve) => {
        let settled = false;
        let client: SMTPConnection | null = null;
        let socket: Socket | null = null;
        const done = (result: LmtpResult, polite = false): void => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          try {
            // After the answers: QUIT (Dovecot has already stored the mail). Otherwise: drop the connection now,
            // so a message cut off mid-DATA is never completed by a stray final dot.
            if (polite && client !== null) client.quit();
            else {
              client?.close();
              socket?.destroy();
            }
          } catch {
            // already closed
          }
          resolve(result);
        };
        const failed = (reason: string): void => done({ kind: 'failed', reason });
        const onAbort = (): void => failed('LMTP cancelled');
        if (signal.aborted) return failed('LMTP cancelled');
        signal.addEventListener('abort', onAbort, { once: true });

        socket = 'path' in target ? connect({ path: target.path }) : connect({ host: target.host, port: target.port });
        const where = 'path' in target ? target.path : `${target.host}:${target.port}`;
        const onConnectError = (error: NodeJS.ErrnoException): void =>
          failed(`cannot connect to LMTP ${where} (${error.code ?? 'error'})`);
        socket.once('error', onConnectError);
        socket.once('connect', () => {
          const connected = socket as Socket;
          connected.removeListener('error', onConnectError);
          connected.on('error', () => undefined); // reported through the client's 'error' event
          client = new Client({
            lmtp: true,
            connection: connected,
            name: hostname(),
            ignoreTLS: true,
            logger: false,
            debug: false,
          });
          client.on('error', (error: SmtpError) => failed(describe('session', error)));
          client.on('end', () => failed('LMTP connection closed before all answers'));
          client.connect((error) => {
            if (error) return failed(describe('greeting', error));
            const to = [...envelope.recipients];
            const mail = { from: envelope.sender, to, size: payload.length, use8BitMime: !isAscii(payload) };
            return (client as SMTPConnection).send(mail, payload, (sendError, info) => {
              if (sendError) {
                // Every RCPT TO refused: those are per-recipient answers. MAIL FROM or DATA refused, or a broken
                // stream: the server never answered per recipient, so nothing here is permanent.
                if (sendError.command === 'RCPT TO' && sendError.rejectedErrors !== undefined) {
                  return done({ kind: 'replied', replies: repliesOf(to, [], sendError.rejectedErrors) }, true);
                }
                return failed(describe('transaction', sendError));
              }
              // nodemailer 9 hands back the refusals known at DATA time; the per-recipient ones after DATA are
              // added to its envelope (the accepted list shrinks in place). A refusal without its text reads as
              // "no answer", which defers: never a bounce or a success we cannot see.
              const late =
                (client as unknown as { _envelope?: { rejectedErrors?: SmtpError[] } })._envelope?.rejectedErrors ?? [];
              const refused = [
                ...(info.rejectedErrors ?? []),
                ...late.filter((e) => !(info.rejectedErrors ?? []).includes(e)),
              ];
              const accepted = info.accepted.filter((r) => !info.rejected.includes(r));
              return done({ kind: 'replied', replies: repliesOf(to, accepted, refused) }, true);
            });
          });
        });
      });
    },
  };
}
