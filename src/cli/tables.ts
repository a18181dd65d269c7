/** Human-readable tables for the CLI (cli-table3), sized for a terminal. */
import Table from 'cli-table3';

export function table(head: string[], rows: (string | number | null | undefined)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] }, wordWrap: true });
  for (const r of rows) t.push(r.map((c) => (c === null || c === undefined ? '' : String(c))));
  return t.toString();
}

/** Shorten a text to n characters with an ellipsis. */
export function clip(s: unknown, n = 60): string {
  const text = typeof s === 'string' ? s.replace(/\s+/g, ' ') : s === undefined || s === null ? '' : JSON.stringify(s);
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
