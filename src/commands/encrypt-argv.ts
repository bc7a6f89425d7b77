// gpgit's command line on `pgpipe encrypt`: `[options] RECIPIENT...`. A recipient is hostile text that may look
// like an option (a local part may legally be "-v" or "--to=x"; Exim's `$local_part@$domain` and Sieve pass it
// as written), so before commander sees the words, every word that is neither a known option nor its value but
// holds an '@' is moved behind a `--`, where commander takes it as a recipient. Pure.

export interface OptionTable {
  /** Every flag spelling the command knows ('--to', '-v', '--help', ...). */
  readonly known: ReadonlySet<string>;
  /** Those of them that take the next word as their value ('--to', '--db', ...). */
  readonly valued: ReadonlySet<string>;
}

/**
 * `args` with recipient-looking words after a `--`: known options (and their values) stay in place, words after
 * an existing `--` stay recipients. A dash word without '@' is left to commander (an unknown option: usage error).
 */
export function orderEncryptArgv(args: readonly string[], table: OptionTable): string[] {
  const kept: string[] = [];
  const moved: string[] = [];
  let at = 0;
  for (; at < args.length; at++) {
    const word = args[at] as string;
    if (word === '--') break;
    if (!word.startsWith('-') || word === '-') {
      kept.push(word);
      continue;
    }
    const name = word.startsWith('--') ? (word.split('=', 1)[0] as string) : word;
    if (table.known.has(name)) {
      kept.push(word);
      // `--to -x@example.org`: the next word is the value, whatever it looks like (commander reads it so too).
      if (table.valued.has(name) && name === word && at + 1 < args.length) kept.push(args[++at] as string);
    } else if (word.includes('@')) {
      moved.push(word);
    } else {
      kept.push(word);
    }
  }
  const after = args.slice(at + 1);
  if (moved.length === 0) return [...args];
  return [...kept, '--', ...moved, ...after];
}
