// The Content-Type (and Content-Transfer-Encoding) of a header block, with RFC 2045's defaults.
// Parsing only: values come back lower-cased/decoded for decisions, the raw fields are never rewritten.
import { headerValue } from './header-fields.js';
import { parseHeaderParams } from './header-params.js';
import type { HeaderField } from './types.js';

export interface ContentType {
  /** Lower-cased `type/subtype`, e.g. 'text/plain'. */
  readonly type: string;
  /** Parameter names lower-cased; values as written (quotes removed, RFC 2231 joined). */
  readonly params: Record<string, string>;
}

// RFC 2045 token: any CHAR except SPACE, CTLs and tspecials.
const TYPE_PATTERN = /^[!#$%&'*+\-.^_`{|}~0-9a-z]+\/[!#$%&'*+\-.^_`{|}~0-9a-z]+$/;

/** RFC 2045 §5.2: a missing or syntactically invalid Content-Type means text/plain; charset=us-ascii. */
const defaultContentType = (): ContentType => ({ type: 'text/plain', params: { charset: 'us-ascii' } });

/** Parses the first Content-Type field; never throws. */
export function contentTypeOf(fields: readonly HeaderField[]): ContentType {
  const field = fields.find((f) => f.lower === 'content-type');
  if (field === undefined) return defaultContentType();
  try {
    const parsed = parseHeaderParams(headerValue(field));
    const type = parsed.value.toLowerCase();
    if (!TYPE_PATTERN.test(type)) return defaultContentType();
    return { type, params: parsed.params };
  } catch {
    return defaultContentType();
  }
}

/** Lower-cased Content-Transfer-Encoding token of the first such field ('7bit' when absent). */
export function transferEncodingOf(fields: readonly HeaderField[]): string {
  const field = fields.find((f) => f.lower === 'content-transfer-encoding');
  if (field === undefined) return '7bit';
  const token = /^[^\s;(]*/.exec(headerValue(field))?.[0] ?? '';
  return token === '' ? '7bit' : token.toLowerCase();
}

/** Lower-cased disposition and its filename parameter (from Content-Disposition), if any. */
export function dispositionOf(fields: readonly HeaderField[]): { type: string; filename: string | undefined } {
  const field = fields.find((f) => f.lower === 'content-disposition');
  if (field === undefined) return { type: '', filename: undefined };
  try {
    const parsed = parseHeaderParams(headerValue(field));
    const filename = parsed.params['filename'];
    return {
      type: parsed.value.toLowerCase(),
      filename: typeof filename === 'string' ? filename : undefined,
    };
  } catch {
    return { type: '', filename: undefined };
  }
}
