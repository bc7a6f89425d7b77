// Undoes pipe(8) flag q (RFC 822 quoting of local parts) so an address can be looked up as stored.
// Pure. The quoted form still goes to sendmail, which parses it the same way Postfix wrote it.

/** `"john doe"@example.org` → `john doe@example.org`; `"a\"b"@x` → `a"b@x`; anything else unchanged. */
export function unquoteAddress(address: string): string {
  if (!address.startsWith('"')) return address;
  let local = '';
  for (let i = 1; i < address.length; i++) {
    const c = address[i] as string;
    if (c === '\\' && i + 1 < address.length) {
      local += address[++i];
    } else if (c === '"') {
      return local + address.slice(i + 1);
    } else {
      local += c;
    }
  }
  return address; // unterminated quote: not something pipe(8) writes; look it up as given
}
