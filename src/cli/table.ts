import { csvField } from '../export/writers.js';

/**
 * The one table style of every bkt command: cli-table3 without borders or row separators, a
 * dashed rule under the header, sized to the terminal. Columns that do not fit are dropped
 * (optional ones first) or shortened with an ellipsis; long lists stop after `limit` rows with a
 * line saying how many were left out and how to see them. `--csv` prints the same columns as CSV,
 * with raw values and every row.
 */

/** One column: how a row gives its value, and how the column behaves when space is short. */
export interface TableColumn<Row> {
  header: string;
  /** The raw value (CSV prints it as is). */
  value: (row: Row) => string | number | boolean | null | undefined;
  /** The text shown in the table; default: `formatCell` of the value. */
  format?: (row: Row) => string;
  align?: 'left' | 'right';
  /** May be dropped when the terminal is too narrow (the rightmost optional column goes first). */
  optional?: boolean;
  /** May be shortened (with an ellipsis) down to this many characters when space is short. */
  shrinkTo?: number;
  /** Print every number with this many decimals (probabilities, metrics), integers included. */
  decimals?: number;
  /**
   * An id: shortened only after optional columns are dropped, and in the middle (a UUID keeps
   * both ends: `00000000-0…00000007`), since a shortened id is no longer one to copy.
   */
  id?: boolean;
}

/** A column of ids (see `TableColumn.id`): shortened last, in the middle, down to 13 characters. */
export function idColumn<Row>(header: string, value: (row: Row) => string | null | undefined, extra: Partial<TableColumn<Row>> = {}): TableColumn<Row> {
  return { header, value, shrinkTo: 13, id: true, ...extra };
}

export interface RenderTableOptions {
  /** Print CSV (header and every row, raw values) instead of a table. */
  csv?: boolean;
  /** Print every row instead of the first `limit`. */
  all?: boolean;
  /** Rows shown without `all`; default 25. */
  limit?: number;
  /** Width to fit; default `terminalWidth()`. */
  width?: number;
  /** Colour the header (only on a terminal); default `process.stdout.isTTY`. */
  colour?: boolean;
  /** Plural noun for the "... and N more" line (default "rows"). */
  noun?: string;
}

/** Rows shown before a list is shortened (a screenful with its summary lines). */
export const DEFAULT_ROW_LIMIT = 25;

const GAP = 2;

/**
 * The width tables fit: the terminal's columns on a TTY, else `$COLUMNS` when set (so piped
 * output can be sized on purpose), else unlimited.
 */
export function terminalWidth(): number {
  if (process.stdout.isTTY && (process.stdout.columns ?? 0) > 0) return process.stdout.columns;
  const fromEnv = Number(process.env.COLUMNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Number.POSITIVE_INFINITY;
}

/**
 * A value for a table cell: with `fixed`, every number with `digits` decimals; else integers as
 * is and other numbers with `digits` decimals (exponent form below 10^-digits); null, undefined
 * and NaN blank; booleans yes/no.
 */
export function formatCell(value: unknown, digits = 4, fixed = false): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '';
    if (fixed) return value.toFixed(digits);
    if (Number.isInteger(value)) return String(value);
    if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(1);
    return value.toFixed(digits);
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

/** CSV text (header line, then one line per row, raw values) of `rows` under `columns`. */
export function renderCsv<Row>(columns: TableColumn<Row>[], rows: Row[]): string {
  const lines = [columns.map((c) => csvField(c.header)).join(',')];
  for (const row of rows) {
    lines.push(
      columns
        .map((c) => {
          const value = c.value(row);
          return value === null || value === undefined ? '' : csvField(String(value));
        })
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Choose which columns to show and how wide, until the table fits `width`: shorten text columns
 * (`shrinkTo`), then drop optional columns from the right, then shorten id columns. Returns the
 * kept column indexes and their widths.
 */
export function fitColumns(
  headers: string[],
  cells: string[][],
  flags: { optional?: boolean; shrinkTo?: number; id?: boolean }[],
  width: number,
): { keep: number[]; widths: number[] } {
  const natural = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
  let keep = headers.map((_, i) => i);
  const widths = [...natural];
  const total = () => keep.reduce((sum, i) => sum + widths[i], 0) + GAP * Math.max(0, keep.length - 1);
  const shrink = (ids: boolean) => {
    // Take space from the widest candidate first, one character at a time, so one long column
    // does not keep its full width while a short one is cut.
    let excess = total() - width;
    while (excess > 0) {
      const candidates = keep.filter((i) => flags[i].shrinkTo !== undefined && Boolean(flags[i].id) === ids && widths[i] > Math.max(flags[i].shrinkTo!, headers[i].length));
      if (candidates.length === 0) break;
      const widest = candidates.reduce((a, b) => (widths[b] > widths[a] ? b : a));
      widths[widest]--;
      excess--;
    }
  };
  shrink(false);
  while (total() > width) {
    const optional = [...keep].reverse().find((i) => flags[i].optional);
    if (optional === undefined) break;
    keep = keep.filter((i) => i !== optional);
    keep.forEach((i) => (widths[i] = natural[i]));
    shrink(false);
  }
  shrink(true);
  return { keep, widths: keep.map((i) => widths[i]) };
}

function truncate(text: string, width: number, middle = false): string {
  if (text.length <= width) return text;
  if (!middle) return `${text.slice(0, Math.max(0, width - 1))}…`;
  const head = Math.ceil((width - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
}

/**
 * The table (or CSV) of `rows`; without `all`, the first `limit` rows and a line
 * "... and N more <noun> (--all to list them, --csv or --json for every field)".
 */
export async function renderTable<Row>(columns: TableColumn<Row>[], rows: Row[], options: RenderTableOptions = {}): Promise<string> {
  if (options.csv) return renderCsv(columns, rows).trimEnd();
  const limit = options.limit ?? DEFAULT_ROW_LIMIT;
  const shown = options.all || rows.length <= limit ? rows : rows.slice(0, limit);
  const headers = columns.map((c) => c.header);
  const cells = shown.map((row) => columns.map((c) => (c.format ? c.format(row) : formatCell(c.value(row), c.decimals ?? 4, c.decimals !== undefined))));
  const width = options.width ?? terminalWidth();
  const { keep, widths } = fitColumns(headers, cells, columns, width);
  const { default: CliTable } = await import('cli-table3');
  const colour = options.colour ?? Boolean(process.stdout.isTTY);
  const table = new CliTable({
    head: keep.map((i) => headers[i]),
    colAligns: keep.map((i) => columns[i].align ?? 'left'),
    style: { compact: true, head: colour ? ['cyan'] : [], border: [], 'padding-left': 0, 'padding-right': 0 },
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', right: '', 'right-mid': '',
      mid: '─', 'mid-mid': ' '.repeat(GAP), middle: ' '.repeat(GAP),
    },
  });
  for (const row of cells) table.push(keep.map((i, k) => truncate(row[i], widths[k], columns[i].id)));
  const lines = table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd());
  const dropped = columns.length - keep.length;
  if (shown.length < rows.length) {
    lines.push(wrapText(`... and ${rows.length - shown.length} more ${options.noun ?? 'rows'} (--all to list them; --csv or --json for every field)`, width));
  }
  if (dropped > 0) {
    const names = columns.filter((_, i) => !keep.includes(i)).map((c) => c.header);
    lines.push(wrapText(`(${names.join(', ')} hidden to fit ${width} columns; --csv or --json show them)`, width));
  }
  return lines.join('\n');
}

/** `text` word-wrapped to `width` (default the terminal's), each line separately; words longer than the width stay whole. */
export function wrapText(text: string, width: number = terminalWidth()): string {
  if (!Number.isFinite(width)) return text;
  return text
    .split('\n')
    .map((line) => {
      const out: string[] = [];
      let current = '';
      for (const word of line.split(' ')) {
        if (current && current.length + 1 + word.length > width) {
          out.push(current);
          current = word;
        } else {
          current = current ? `${current} ${word}` : word;
        }
      }
      out.push(current);
      return out.join('\n');
    })
    .join('\n');
}
