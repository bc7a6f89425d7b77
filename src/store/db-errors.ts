// Classifies a database failure as temporary db.unavailable / db.schema with a short reason.
// Reasons name the failure class only: server messages (and PGlite's error objects, which carry `params`) can quote
// SQL values (addresses), so neither the message nor the error itself (as cause) is passed on.
import { temporary } from '../errors.js';
import type { PgpipeError } from '../errors.js';
import { isPgpipeError } from '../errors.js';

const KNOWN: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOENT: 'no server socket',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENOTFOUND: 'host not found',
  EACCES: 'permission denied on socket',
  EPIPE: 'connection closed',
  '57014': 'statement timeout',
  '57P01': 'server shut down',
  '57P02': 'server crashed',
  '57P03': 'server not accepting connections',
  '3D000': 'database does not exist',
  '28000': 'authentication failed',
  '28P01': 'authentication failed',
  '53300': 'too many connections',
};

// pg's own client-side messages carry no values; anything else is reduced to its class.
const CLIENT_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Connection terminated',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'timeout expired',
  // pg.Pool's own (pg-pool.ts): every connection busy for the whole timeout; used after close().
  'timeout exceeded when trying to connect',
  'Cannot use a pool after calling end on the pool',
];

/** SQLSTATE 42P01/42703 (missing table/column) → db.schema; everything else → db.unavailable. */
export function dbFailure(error: unknown, what: 'connect' | 'query'): PgpipeError {
  if (isPgpipeError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const codeText = typeof code === 'string' ? code : '';
  if (codeText === '42P01' || codeText === '42703') {
    return temporary(
      'db.schema',
      `database schema: ${codeText === '42P01' ? 'table' : 'column'} missing (SQLSTATE ${codeText}); ` +
        `create the tutorial's users/aliases tables`,
    );
  }
  const message = error instanceof Error ? error.message : '';
  const reason =
    KNOWN[codeText] ??
    (/^[0-9A-Z]{5}$/.test(codeText) ? `SQLSTATE ${codeText}` : undefined) ??
    CLIENT_MESSAGES.find((m) => message.startsWith(m))?.toLowerCase() ??
    (codeText !== '' ? codeText : 'unexpected error');
  return temporary('db.unavailable', `database unavailable (${what}): ${reason}`);
}
