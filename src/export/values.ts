/**
 * One exported value in each output's form (CSV text, Arrow and Parquet numbers and times) and
 * the chunked write every writer uses, shared by writers.ts and the Arrow and Parquet writers it
 * loads on demand (kept here so that those import nothing that imports them).
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { timestampMs } from '../data/parse-values.js';
import type { ColumnSpec } from './columns.js';

export type Row = Record<string, unknown>;

/** Write one string, waiting for 'drain' when the stream's buffer is full. */
export async function writeChunk(out: Writable, text: string | Uint8Array): Promise<void> {
  // A failed stream never drains: report its error instead of waiting forever.
  if (out.errored) throw out.errored;
  if (!out.write(text)) await once(out, 'drain');
}

/** RFC 4180: quote a field holding a comma, quote, CR or LF; double inner quotes. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The CSV text of one value: empty for null, ISO for timestamps, JSON text for json. */
export function textValue(value: unknown, column: ColumnSpec): string {
  if (value === null || value === undefined) return '';
  switch (column.type) {
    case 'float':
    case 'int':
      return String(toNumber(value));
    case 'bool':
      return toBool(value) ? 'true' : 'false';
    case 'timestamp':
      return toIso(value) ?? '';
    case 'json':
      return typeof value === 'string' ? value : JSON.stringify(value);
    default:
      return String(value);
  }
}

export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export function toBool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return Number(value) !== 0;
  return value === 'true' || value === 't' || value === '1';
}

const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function toIso(value: unknown): string | null {
  // The store already returns canonical ISO-8601 UTC text: pass it through unparsed.
  if (typeof value === 'string' && value.length === 24 && CANONICAL_ISO.test(value)) return value;
  const ms = timestampMs(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
