// The protocol end Postfix talks to: smtp-server in LMTP or SMTP mode. It takes the envelope as given (Postfix has
// checked it), reads DATA under the memory budget, runs the transaction, and answers after the final dot: one reply
// per recipient in LMTP, one for the message in SMTP (replies.ts). Every failure is a 4xx unless a policy or the next
// hop said 5xx. No TLS, no AUTH: the listener is a private socket or loopback port for Postfix only.
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { XForward, XForwardName } from '../deliver/ports.js';
import type { Envelope } from '../filter/ports.js';
import { greetAtOnce } from './greet-at-once.js';
import type { MemoryBudget, Reservation } from './memory-budget.js';
import { receiveMessage } from './receive-message.js';
import { transactionReply, type Reply } from './replies.js';

/** What the front end asks of the service for each message, and tells it. */
export interface FrontEndHooks {
  readonly protocol: 'lmtp' | 'smtp';
  readonly maxClients: () => number;
  /** message_size_limit (0 none) and what to answer over it. */
  readonly sizeLimit: () => { readonly bytes: number; readonly oversize: 'reject' | 'defer' };
  /** How long one DATA may take to arrive (the transaction deadline). */
  readonly receiveDeadlineMs: () => number;
  readonly budget: MemoryBudget;
  /** Budget bytes a received message of `bytes` for `recipients` needs besides itself while it is encrypted. */
  readonly workBytes: (bytes: number, recipients: number) => number;
  /** Runs the message; resolves with each recipient's answer, in RCPT TO order (replies.ts). */
  readonly run: (raw: Buffer, envelope: Envelope, origin: Origin) => Promise<Reply[]>;
  /** A transaction answered without running (over budget, too big): for the log and metrics. */
  readonly refused: (
    why: 'over-budget' | 'too-big' | 'busy' | 'slow',
    envelope: Envelope | null,
    queueId: string | null,
  ) => void;
  /** A connection was accepted (greeted) / an accepted one ended. */
  readonly opened: () => void;
  readonly closed: () => void;
}

/** Most recipients one transaction takes (RFC 5321 §4.5.3.1.8 asks for at least 100); more get 452 4.5.3. */
export const MAX_RECIPIENTS = 1000;

const smtpError = (reply: Reply): Error =>
  Object.assign(new Error(`${reply.enhanced} ${reply.text}`), { responseCode: reply.code });

const answer = (reply: Reply): string => `${reply.enhanced} ${reply.text}`;

const SLOW: Reply = { code: 421, enhanced: '4.4.2', text: 'pgpipe: DATA took too long, closing' };
const BUSY: Reply = { code: 421, enhanced: '4.3.2', text: 'pgpipe: too many connections, try again later' };
const OVER_BUDGET: Reply = {
  code: 452,
  enhanced: '4.3.1',
  text: 'pgpipe: too much mail held in memory at once, try again later',
};

function envelopeOf(session: SMTPServerSession): Envelope {
  const from = session.envelope.mailFrom;
  return {
    sender: from === false ? '' : from.address,
    recipients: session.envelope.rcptTo.map((r) => r.address),
  };
}

/** Who Postfix says the mail came from (its XFORWARD), for the log's queue id and the next hop's XFORWARD. */
export interface Origin {
  readonly queueId: string | null;
  readonly xforward: XForward;
}

const XFORWARD_NAMES: readonly XForwardName[] = ['NAME', 'ADDR', 'PORT', 'PROTO', 'HELO', 'IDENT', 'SOURCE'];

function originOf(session: SMTPServerSession): Origin {
  const given = (session as unknown as { xForward?: Map<string, unknown> }).xForward ?? new Map<string, unknown>();
  const xforward: Partial<Record<XForwardName, string>> = {};
  for (const name of XFORWARD_NAMES) {
    const value = given.get(name.toLowerCase()) ?? given.get(name);
    if (typeof value === 'string' && value !== '' && value !== '[UNAVAILABLE]') xforward[name] = value;
    else if (typeof value === 'number' && value > 0) xforward[name] = String(value);
  }
  return { queueId: xforward.IDENT ?? null, xforward };
}

/** SIZE is advertised so Postfix refuses an oversized message before sending it, only when that is the policy. */
function advertisedSize(hooks: FrontEndHooks): number {
  const { bytes, oversize } = hooks.sizeLimit();
  return oversize === 'reject' && bytes > 0 ? bytes : 0;
}

export function createFrontEnd(hooks: FrontEndHooks): SMTPServer {
  greetAtOnce();
  const lmtp = hooks.protocol === 'lmtp';
  const accepted = new Set<string>();
  // Each session's share of the budget: taken at MAIL FROM (SIZE=), grown by DATA, given back when the transaction
  // or the session ends.
  const reservations = new Map<string, Reservation>();
  const releaseFor = (id: string): void => {
    reservations.get(id)?.release();
    reservations.delete(id);
  };
  const server: SMTPServer = new SMTPServer({
    lmtp,
    name: hostname(),
    banner: 'pgpipe',
    size: advertisedSize(hooks),
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    disableReverseLookup: true,
    // Only for the queue id in the log (XFORWARD IDENT): the listener is Postfix's alone.
    useXForward: true,
    logger: false,
    onConnect(session, callback) {
      // The limit as now configured (SIGHUP): smtp-server reads it at each EHLO and MAIL FROM.
      server.options.size = advertisedSize(hooks);
      if (server.connections.size > hooks.maxClients()) {
        hooks.refused('busy', null, null);
        return callback(smtpError(BUSY));
      }
      accepted.add(session.id);
      hooks.opened();
      return callback();
    },
    onClose(session) {
      releaseFor(session.id);
      if (accepted.delete(session.id)) hooks.closed();
    },
    onMailFrom(address, session, callback) {
      releaseFor(session.id); // a new transaction (after RSET, or the last one's reply)
      // Postfix sends SIZE= when it is advertised: what the message will need is reserved now, and a message that
      // cannot fit is refused before its bytes are sent.
      const declared = address.args === false ? 0 : Number(address.args.SIZE ?? 0);
      const reservation = hooks.budget.open();
      if (
        Number.isSafeInteger(declared) &&
        declared > 0 &&
        !reservation.ensure(declared + hooks.workBytes(declared, 1))
      ) {
        hooks.refused('over-budget', null, null);
        return callback(smtpError(OVER_BUDGET));
      }
      reservations.set(session.id, reservation);
      return callback();
    },
    onRcptTo(address, session, callback) {
      if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) {
        return callback(smtpError({ code: 452, enhanced: '4.5.3', text: 'pgpipe: too many recipients' }));
      }
      // smtp-server keeps one entry for addresses equal but for case, so LMTP would owe Postfix one reply more than
      // it sends. A repeat waits for a later transaction instead (Postfix retries that recipient alone).
      const lower = address.address.toLowerCase();
      if (session.envelope.rcptTo.some((r) => r.address.toLowerCase() === lower)) {
        const text = 'pgpipe: recipient repeated in this transaction, send it in another';
        return callback(smtpError({ code: 452, enhanced: '4.5.3', text }));
      }
      return callback();
    },
    onData(stream, session, callback) {
      const envelope = envelopeOf(session);
      const reservation = reservations.get(session.id) ?? hooks.budget.open();
      reservations.delete(session.id);
      void handleData(stream, envelope, originOf(session), reservation, hooks).then(
        (replies) => {
          if (replies === 'slow') return dropSession(server, session.id, SLOW);
          if (replies === null) return callback(new Error('4.3.0 connection broken'));
          if (lmtp) return callback(null, replies.map((r) => (r.code === 250 ? answer(r) : smtpError(r))) as never);
          const [one] = replies as [Reply];
          return one.code === 250 ? callback(null, answer(one)) : callback(smtpError(one));
        },
        () => callback(smtpError({ code: 451, enhanced: '4.3.0', text: 'pgpipe: internal error' })),
      );
    },
  });
  return server;
}

/**
 * A session whose DATA did not end in time: 421 and close, the only answer possible before the client's final dot
 * (Postfix defers the message). The message was never handed on.
 */
function dropSession(server: SMTPServer, id: string, reply: Reply): void {
  const connections = (server as unknown as { connections: Set<{ id: string; send: Send; close(): void }> })
    .connections;
  for (const connection of connections) {
    if (connection.id !== id) continue;
    connection.send(reply.code, `${reply.enhanced} ${reply.text}`);
    connection.close();
  }
}
type Send = (code: number, text: string) => void;

/**
 * The replies for one DATA: per recipient (LMTP) or one (SMTP); null when the connection broke mid-DATA, 'slow' when
 * the DATA did not end within the deadline.
 */
async function handleData(
  stream: Readable,
  envelope: Envelope,
  origin: Origin,
  reservation: Reservation,
  hooks: FrontEndHooks,
): Promise<Reply[] | null | 'slow'> {
  const { queueId } = origin;
  const n = hooks.protocol === 'lmtp' ? envelope.recipients.length : 1;
  const all = (reply: Reply): Reply[] => Array.from({ length: n }, () => reply);
  const { bytes: limit, oversize } = hooks.sizeLimit();
  const received = await receiveMessage(stream, reservation, limit, hooks.receiveDeadlineMs());
  if (received.kind === 'broken') return null;
  if (received.kind === 'timed-out') {
    hooks.refused('slow', envelope, queueId);
    return 'slow';
  }
  if (received.kind === 'too-big') {
    hooks.refused('too-big', envelope, queueId);
    const text = `pgpipe: message too big (${received.bytes} bytes, limit ${limit})`;
    return all(oversize === 'reject' ? { code: 552, enhanced: '5.3.4', text } : { code: 452, enhanced: '4.3.4', text });
  }
  if (received.kind === 'over-budget') {
    hooks.refused('over-budget', envelope, queueId);
    return all(OVER_BUDGET);
  }
  const work = hooks.workBytes(received.raw.length, envelope.recipients.length);
  if (!reservation.ensure(received.raw.length + work)) {
    reservation.release();
    hooks.refused('over-budget', envelope, queueId);
    return all(OVER_BUDGET);
  }
  try {
    const answers = await hooks.run(received.raw, envelope, origin);
    return hooks.protocol === 'lmtp' ? answers : [transactionReply(answers)];
  } finally {
    reservation.release();
  }
}
