// XFORWARD command lines (Postfix XFORWARD_README) for the attributes a caller passes and the next hop offers.
// Pure. Values come from the upstream client (its HELO name, say), so they are never trusted: each is xtext
// encoded (RFC 3461 section 4), and one that XFORWARD_README forbids (control or non-ASCII characters, whitespace,
// over 255 characters) is left out rather than sent as text the next hop would refuse or log. Left out rather than
// [UNAVAILABLE]: Postfix reads both the same once any client attribute came, and smtp-server takes HELO=[UNAVAILABLE]
// for "no EHLO yet" and then refuses MAIL FROM.
import type { XForward, XForwardName } from '../deliver/ports.js';

/** SMTP's command line limit, CRLF included (RFC 5321 4.5.3.1.4); XFORWARD_README repeats it. */
const COMMAND_LINE_LIMIT = 512;
const ORDER: readonly XForwardName[] = ['NAME', 'ADDR', 'PORT', 'PROTO', 'HELO', 'IDENT', 'SOURCE'];

/** RFC 3461 xtext: printable ASCII except "+" and "=" as is, everything else as +HH. */
export function xtext(value: string): string {
  return value.replace(/[^!-*,-<>-~]/g, (c) => `+${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The xtext of a value XFORWARD_README allows, or null. */
function encodedValue(value: string): string | null {
  const encoded = /^[!-~]+$/.test(value) ? xtext(value) : '';
  return encoded.length === 0 || encoded.length > 255 ? null : encoded;
}

/**
 * The XFORWARD lines to send before MAIL FROM: only attributes named in the EHLO keyword's arguments (`offered`,
 * e.g. "NAME ADDR PORT PROTO HELO IDENT SOURCE"), split so that no line passes 512 characters with its CRLF.
 * None when the next hop does not offer XFORWARD (`offered` undefined) or nothing applies.
 */
export function xforwardCommands(attributes: XForward, offered: string | undefined): string[] {
  if (offered === undefined) return [];
  const names = new Set(offered.toUpperCase().split(/\s+/));
  const pairs = ORDER.flatMap((name) => {
    const value = attributes[name] === undefined || !names.has(name) ? null : encodedValue(attributes[name]);
    return value === null ? [] : [`${name}=${value}`];
  });
  const lines: string[] = [];
  for (const pair of pairs) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + pair.length + 2 <= COMMAND_LINE_LIMIT) {
      lines[lines.length - 1] = `${last} ${pair}`;
    } else lines.push(`XFORWARD ${pair}`);
  }
  return lines;
}
