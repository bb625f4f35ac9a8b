/**
 * The SQL text bkt sends PostgreSQL, and COPY's text format both ways: `?` placeholders
 * numbered, parameters inlined as literals for COPY (which takes none), rows encoded for COPY FROM
 * STDIN and decoded from COPY TO STDOUT.
 */
import { StringDecoder } from 'node:string_decoder';
import type { SqlValue } from '../sql.js';

const QUESTION = 0x3f;
const SINGLE_QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const DOLLAR = 0x24;

/**
 * Each `?` placeholder replaced by `replacement(i)` (i from 0), leaving quoted strings, identifiers
 * and dollar-quoted bodies alone.
 */
function replacePlaceholders(sql: string, replacement: (index: number) => string): string {
  // Plain text is copied a run at a time: a group's statements are long, and a string built one
  // character at a time allocated per character (over a third of the service's garbage).
  let out = '';
  let n = 0;
  let copied = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql.charCodeAt(i);
    if (ch === QUESTION) {
      out += sql.slice(copied, i) + replacement(n++);
      copied = ++i;
    } else if (ch === SINGLE_QUOTE || ch === DOUBLE_QUOTE || (ch === DOLLAR && sql.charCodeAt(i + 1) === DOLLAR)) {
      // A quoted string, identifier or dollar-quoted body, copied as it is with the text around it.
      const close = ch === DOLLAR ? '$$' : sql[i];
      const end = sql.indexOf(close, i + close.length);
      i = end < 0 ? sql.length : end + close.length;
    } else i++;
  }
  return out + sql.slice(copied);
}

/** `?` placeholders to `$1..$n`, leaving quoted strings, identifiers and dollar-quoted bodies alone. */
export function toNumberedPlaceholders(sql: string): string {
  return replacePlaceholders(sql, (i) => `$${i + 1}`);
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** One value in COPY's text format. */
export function copyText(v: SqlValue): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  const s = String(v);
  // uuids, ISO times and bkt's JSON never need escaping: test once, replace rarely.
  return NEEDS_ESCAPE.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s;
}

/** One line of COPY text output: fields split on tabs, `\N` as null, backslash escapes undone. */
function parseCopyLine(line: string): unknown[] {
  const fields: unknown[] = line.split('\t');
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as string;
    if (f === '\\N') fields[i] = null;
    else if (f.includes('\\')) fields[i] = f.replace(/\\(.)/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c));
  }
  return fields;
}

/** COPY's text output, from byte spans to rows (a multi-byte character may straddle two spans). */
export class CopyTextLines {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';

  constructor(private readonly onRow: (row: unknown[]) => void) {}

  span(buf: Buffer, start: number, end: number): number {
    const text = this.rest + this.decoder.write(buf.subarray(start, end));
    const last = text.lastIndexOf('\n');
    if (last < 0) {
      this.rest = text;
      return 0;
    }
    this.rest = text.slice(last + 1);
    const lines = text.slice(0, last).split('\n');
    for (let i = 0; i < lines.length; i++) this.onRow(parseCopyLine(lines[i]));
    return lines.length;
  }

  /** The last line when it had no newline (0 or 1 rows). */
  finish(): number {
    const rest = this.rest + this.decoder.end();
    this.rest = '';
    if (!rest.length) return 0;
    this.onRow(parseCopyLine(rest));
    return 1;
  }
}

/** `pg`'s own conversion of a parameter to the text it binds, and its quoting of a string literal. */
export interface PgLiteralTools {
  /** pg.utils.prepareValue: the text `pg` sends for a bound value, null for NULL, a Buffer for a binary one. */
  prepareValue(value: unknown): unknown;
  /** pg.escapeLiteral: quotes doubled, backslashes doubled in an E'...' string when there are any. */
  escapeLiteral(text: string): string;
}

const QUOTE_OR_BACKSLASH = /['\\]/;

/**
 * A parameter as the literal of the very text `pg` binds for it (its own prepareValue, so numbers
 * incl. NaN and Infinity, booleans, Dates and arrays become what the bound statement receives),
 * quoted by its own escapeLiteral: both are values of unknown type that the server resolves from
 * context, so the inlined statement is typed and valued as the bound one. Null when the value has
 * no such literal: a Buffer (bound in binary) and text with a NUL character (a simple query is a
 * NUL-terminated string; bound, the server rejects it with its own error).
 */
export function boundLiteral(value: unknown, pg: PgLiteralTools): string | null {
  const text = pg.prepareValue(value);
  if (text === null || text === undefined) return 'NULL';
  if (typeof text !== 'string' || text.includes('\0')) return null;
  // What escapeLiteral gives text without a quote or backslash (uuids, times, numbers), without its loop per character.
  return QUOTE_OR_BACKSLASH.test(text) ? pg.escapeLiteral(text) : `'${text}'`;
}

/**
 * The statement with its `?` parameters replaced by boundLiteral, for a simple-protocol query
 * that carries several statements in one round trip; null when a parameter has no such literal
 * or as many placeholders as parameters (the caller binds it instead).
 */
export function inlineBoundParameters(sql: string, params: readonly SqlValue[], pg: PgLiteralTools): string | null {
  const literals: string[] = [];
  for (const p of params) {
    const l = boundLiteral(p, pg);
    if (l === null) return null;
    literals.push(l);
  }
  let placeholders = 0;
  const inlined = replacePlaceholders(sql, (i) => {
    placeholders++;
    return literals[i] ?? '';
  });
  // Bound, a count that differs is the server's error: leave it to the bound statement.
  return placeholders === literals.length ? inlined : null;
}
