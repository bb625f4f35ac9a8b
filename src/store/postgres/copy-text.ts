/**
 * The SQL text bkt sends PostgreSQL, and COPY's text format both ways: `?` placeholders
 * numbered, parameters inlined as literals for COPY (which takes none), rows encoded for COPY FROM
 * STDIN and decoded from COPY TO STDOUT.
 */
import { StringDecoder } from 'node:string_decoder';
import type { SqlValue } from '../sql.js';

/** `?` placeholders to `$1..$n`, leaving quoted strings, identifiers and dollar-quoted bodies alone. */
export function toNumberedPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === "'" || ch === '"') {
      const end = sql.indexOf(ch, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === '$' && sql[i + 1] === '$') {
      const end = sql.indexOf('$$', i + 2);
      const stop = end < 0 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === '?') {
      out += `$${++n}`;
      i++;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
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

/** A bound value as a SQL literal (for COPY, which takes no parameters). */
function literal(v: SqlValue): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`cannot inline ${v}`);
    return String(v);
  }
  if (Array.isArray(v)) {
    const inner = `{${v.map((x) => `"${String(x).replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
    return `'${inner.replace(/'/g, "''")}'`;
  }
  return `'${String(v).replace(/'/g, "''")}'`;
}

/** Replace `?` placeholders by literals, outside quotes (see toNumberedPlaceholders). */
export function inlineParameters(sql: string, params: readonly SqlValue[]): string {
  return toNumberedPlaceholders(sql).replace(/\$(\d+)/g, (_, n: string) => literal(params[Number(n) - 1]));
}

/**
 * A parameter as the literal of the text `pg` binds for it (numbers and booleans as quoted text,
 * arrays in PostgreSQL's array syntax), so an inlined statement is typed exactly as the bound one:
 * both are literals of unknown type that the server resolves from context. An escape string
 * (E'...') whatever standard_conforming_strings says. Null for a value bound in binary (a Buffer),
 * which has no such literal.
 */
function boundLiteral(v: SqlValue | undefined): string | null {
  if (v === null || v === undefined) return 'NULL';
  if (Buffer.isBuffer(v)) return null;
  const text = Array.isArray(v) ? `{${v.map((x) => (x === null ? 'NULL' : `"${String(x).replace(/["\\]/g, '\\$&')}"`)).join(',')}}` : String(v);
  return `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * The statement with its `?` parameters replaced by literals of the text `pg` would bind (see
 * boundLiteral), for a simple-protocol query that carries several statements in one round trip;
 * null when a parameter has no such literal.
 */
export function inlineBoundParameters(sql: string, params: readonly SqlValue[]): string | null {
  const literals: string[] = [];
  for (const p of params) {
    const l = boundLiteral(p);
    if (l === null) return null;
    literals.push(l);
  }
  return toNumberedPlaceholders(sql).replace(/\$(\d+)/g, (_, n: string) => literals[Number(n) - 1]);
}
