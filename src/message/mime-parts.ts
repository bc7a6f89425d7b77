// A minimal, bounded MIME walker for classification: children of a multipart body, and leaf parts depth-first.
// Read-only views (subarrays) of the input; never throws on broken MIME; depth and part count are capped.
import { contentTypeOf } from './content-type.js';
import { splitMessage } from './split-message.js';
import type { HeaderField } from './types.js';

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;

interface Delimiter {
  /** End of the previous part's content (the EOL before the delimiter belongs to the delimiter). */
  readonly contentEnd: number;
  /** First byte after the delimiter line. */
  readonly next: number;
  readonly closing: boolean;
}

/** Next `--boundary[--]` line (at a line start, only transport whitespace after it) at or after `from`. */
function findDelimiter(body: Buffer, marker: Buffer, from: number): Delimiter | undefined {
  for (let at = body.indexOf(marker, from); at !== -1; at = body.indexOf(marker, at + 1)) {
    if (at > 0 && body[at - 1] !== LF) continue;
    let end = at + marker.length;
    const closing = body[end] === DASH && body[end + 1] === DASH;
    if (closing) end += 2;
    while (body[end] === 0x20 || body[end] === 0x09) end += 1;
    let next: number;
    if (end >= body.length) next = body.length;
    else if (body[end] === LF) next = end + 1;
    else if (body[end] === CR && body[end + 1] === LF) next = end + 2;
    else continue; // a longer boundary sharing this prefix, or text after it
    const contentEnd = at === 0 ? 0 : at >= 2 && body[at - 2] === CR ? at - 2 : at - 1;
    return { contentEnd, next, closing };
  }
  return undefined;
}

export interface MultipartSection {
  /** The text before the first delimiter, a body part, or the text after the closing delimiter. */
  readonly kind: 'preamble' | 'part' | 'epilogue';
  readonly bytes: Buffer;
}

/**
 * Preamble, body parts and epilogue of a multipart body, lazily (only what the caller consumes is scanned). The
 * epilogue comes only after a closing delimiter; without one the last part ends at the end of the body.
 */
export function* multipartSections(body: Buffer, boundary: string): Generator<MultipartSection, void, undefined> {
  if (boundary === '') return;
  const marker = Buffer.from(`--${boundary}`, 'latin1');
  let partStart = -1;
  let from = 0;
  for (;;) {
    const delimiter = findDelimiter(body, marker, from);
    if (delimiter === undefined) {
      yield partStart >= 0 ? { kind: 'part', bytes: body.subarray(partStart) } : { kind: 'preamble', bytes: body };
      return;
    }
    const end = Math.max(partStart, delimiter.contentEnd);
    if (partStart >= 0) yield { kind: 'part', bytes: body.subarray(partStart, end) };
    else yield { kind: 'preamble', bytes: body.subarray(0, delimiter.contentEnd) };
    if (delimiter.closing) {
      yield { kind: 'epilogue', bytes: body.subarray(delimiter.next) };
      return;
    }
    partStart = delimiter.next;
    from = delimiter.next;
  }
}

/**
 * The body parts of a multipart body, lazily (only what the caller consumes is scanned). Preamble and epilogue
 * are skipped; a missing closing delimiter ends the last part at the end of the body.
 */
export function* multipartChildren(body: Buffer, boundary: string): Generator<Buffer, void, undefined> {
  for (const section of multipartSections(body, boundary)) if (section.kind === 'part') yield section.bytes;
}

export interface MimeLeaf {
  readonly fields: readonly HeaderField[];
  readonly body: Buffer;
  /** 0 for a single-part message, 1 for a child of the top-level multipart, … */
  readonly depth: number;
}

export interface WalkLimits {
  /** Multipart nesting below the top level that is still entered. */
  readonly maxDepth: number;
  /** Parts (leaf or multipart) looked at before the walk stops. */
  readonly maxParts: number;
}

export const DEFAULT_WALK_LIMITS: WalkLimits = { maxDepth: 20, maxParts: 500 };

/** What lies around the parts of one multipart entity the walk entered. */
export interface MultipartFrame {
  readonly fields: readonly HeaderField[];
  readonly preamble: Buffer;
  /** undefined when the body has no closing delimiter. */
  readonly epilogue: Buffer | undefined;
}

/**
 * Leaf parts depth-first, starting from a header block and its body. A multipart without a usable boundary
 * counts as a leaf; message/rfc822 is not entered. Parts beyond the limits are not visited; `onLimit` is called
 * when that happens, so a caller that must see every part can tell an incomplete walk. `onMultipart` gets each
 * multipart entity's header, preamble and epilogue once its parts have been walked.
 */
export function* mimeLeaves(
  fields: readonly HeaderField[],
  body: Buffer,
  limits: WalkLimits = DEFAULT_WALK_LIMITS,
  onLimit: () => void = () => undefined,
  onMultipart: (frame: MultipartFrame) => void = () => undefined,
): Generator<MimeLeaf, void, undefined> {
  let budget = limits.maxParts;
  function* visit(partFields: readonly HeaderField[], partBody: Buffer, depth: number): Generator<MimeLeaf> {
    budget -= 1;
    const { type, params } = contentTypeOf(partFields);
    const boundary = params['boundary'] ?? '';
    if (!type.startsWith('multipart/') || boundary === '') {
      yield { fields: partFields, body: partBody, depth };
      return;
    }
    if (depth >= limits.maxDepth) {
      onLimit();
      return;
    }
    let preamble: Buffer = Buffer.alloc(0);
    let epilogue: Buffer | undefined;
    for (const section of multipartSections(partBody, boundary)) {
      if (section.kind === 'preamble') preamble = section.bytes;
      else if (section.kind === 'epilogue') epilogue = section.bytes;
      else {
        if (budget <= 0) {
          onLimit();
          return;
        }
        const split = splitMessage(section.bytes);
        yield* visit(split.fields, split.body, depth + 1);
      }
    }
    onMultipart({ fields: partFields, preamble, epilogue });
  }
  yield* visit(fields, body, 0);
}
