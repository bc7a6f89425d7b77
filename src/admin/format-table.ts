// Plain-text tables for the admin commands' human output. Pure; no colours, no terminal width guessing.
// Cells come from the database (user IDs, addresses), so control characters are made visible, never emitted.

/** Replaces control characters (ESC, CR, LF, NUL...) with `\xNN` so stored text cannot drive the terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Left-aligned columns separated by two spaces, a header row and a dashed rule. Trailing spaces are trimmed.
 * A cell may hold several lines (`\n`-separated, e.g. several user IDs): the row grows downwards.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const split = (cell: string | undefined): string[] => (cell ?? '').split('\n').map(printable);
  const grid = [headers.map((h) => [printable(h)]), ...rows.map((row) => headers.map((_, i) => split(row[i])))];
  const widths = headers.map((_, col) =>
    Math.max(...grid.map((row) => Math.max(...(row[col] ?? ['']).map((l) => l.length)))),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, col) => cell.padEnd(widths[col] ?? 0))
      .join('  ')
      .trimEnd();
  const out: string[] = [];
  grid.forEach((row, index) => {
    const height = Math.max(...row.map((cell) => cell.length));
    for (let i = 0; i < height; i++) out.push(line(row.map((cell) => cell[i] ?? '')));
    if (index === 0) out.push(line(widths.map((w) => '-'.repeat(w))));
  });
  return `${out.join('\n')}\n`;
}

/** `2025-01-31` in UTC, or the fallback for a missing date. */
export function formatDay(date: Date | null, fallback = 'never'): string {
  return date === null ? fallback : date.toISOString().slice(0, 10);
}
