import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EPOCH_SECONDS_LIMIT,
  parseCorrectBytes,
  parseCorrectString,
  parseIsoBytes,
  parseIsoMillisUtc24,
  parseIsoMillisUtc24String,
  parseTimeBytes,
  parseTimeString,
  timestampMs,
  endOfDayBound,
} from '../../src/data/parse-values.js';

if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('parseCorrect', () => {
  it('accepts 0, 1, true, false in any case with surrounding blanks', () => {
    for (const [text, value] of [
      ['0', 0],
      ['1', 1],
      ['true', 1],
      ['FALSE', 0],
      [' True\t', 1],
      ['fAlSe', 0],
    ] as const) {
      expect(parseCorrectString(text)).toBe(value);
      expect(parseCorrectBytes(bytes(text), 0, bytes(text).length)).toBe(value);
    }
  });

  it('rejects anything else with -1', () => {
    for (const text of ['', '2', '-1', '1.0', 'yes', 'NaN', 'tru', 'truee', '01']) {
      expect(parseCorrectString(text)).toBe(-1);
      expect(parseCorrectBytes(bytes(text), 0, bytes(text).length)).toBe(-1);
    }
  });
});

describe('parseTime', () => {
  it('reads ISO-8601 dates and date-times as UTC unless a zone is given', () => {
    expect(parseTimeString('2024-03-01')).toBe(Date.UTC(2024, 2, 1));
    expect(parseTimeString('2024-03-01T12:30')).toBe(Date.UTC(2024, 2, 1, 12, 30));
    expect(parseTimeString('2024-03-01 12:30:15')).toBe(Date.UTC(2024, 2, 1, 12, 30, 15));
    expect(parseTimeString('2024-03-01T12:30:15.25Z')).toBe(Date.UTC(2024, 2, 1, 12, 30, 15, 250));
    expect(parseTimeString('2024-03-01T12:30:15+02:00')).toBe(Date.UTC(2024, 2, 1, 10, 30, 15));
    expect(parseTimeString('2024-03-01T12:30:15-0130')).toBe(Date.UTC(2024, 2, 1, 14, 0, 15));
    expect(parseTimeString('2024-03-01T12:30:15+05')).toBe(Date.UTC(2024, 2, 1, 7, 30, 15));
    expect(parseTimeString('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
  });

  it('reads epoch numbers below 1e11 as seconds and larger ones as milliseconds', () => {
    expect(parseTimeString('1700000000')).toBe(1_700_000_000_000);
    expect(parseTimeString('1700000000.5')).toBe(1_700_000_000_500);
    expect(parseTimeString('1700000000000')).toBe(1_700_000_000_000);
    expect(parseTimeString(String(EPOCH_SECONDS_LIMIT))).toBe(EPOCH_SECONDS_LIMIT);
    expect(parseTimeString('0')).toBe(0);
  });

  it('rejects impossible or non-ISO dates with NaN', () => {
    for (const text of [
      '2023-02-29',
      '2024-13-01',
      '2024-03-01T25:00',
      '2024-03-01T12',
      '2024-03-01X12:00',
      '03/01/2024',
      'March 1, 2024',
      '2024-3-1',
      '1e9',
      'NaN',
      '2024-03-01T12:00:00Zjunk',
      '2024-03-01T12:00:00.',
    ]) {
      expect(parseTimeString(text), text).toBeNaN();
    }
  });

  it('property: the byte and string forms agree and match Date for full ISO strings', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1971-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), (d) => {
        const iso = d.toISOString();
        expect(parseTimeString(iso)).toBe(d.getTime());
        expect(parseTimeBytes(bytes(iso), 0, iso.length)).toBe(d.getTime());
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (s) => {
        const a = parseTimeString(s);
        const b = parseTimeBytes(bytes(s), 0, bytes(s).length);
        expect(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))).toBe(true);
      }),
    );
  });

  it('parseIsoMillisUtc24: hand-worked values', () => {
    expect(parseIsoMillisUtc24(bytes('2024-01-01T00:00:01.250Z'), 0)).toBe(Date.UTC(2024, 0, 1, 0, 0, 1, 250));
    expect(parseIsoMillisUtc24(bytes('x,2024-02-29 23:59:59.999Z,'), 2)).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
    expect(parseIsoMillisUtc24(bytes('2023-02-29T00:00:00.000Z'), 0)).toBeNaN(); // not a leap year
    expect(parseIsoMillisUtc24(bytes('2024-01-01T00:00:01,250Z'), 0)).toBeNaN(); // ',' fraction: left to parseIsoBytes
    expect(parseIsoMillisUtc24(bytes('2024-01-01T24:00:00.000Z'), 0)).toBeNaN();
  });

  it('property: parseIsoMillisUtc24 gives parseIsoBytes\'s value or NaN, and NaN only off its form', () => {
    // Valid times, then single-byte mutations of them (any byte, or one of the separators).
    const valid = fc.date({ min: new Date(Date.UTC(1, 0, 1)), max: new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)), noInvalidDate: true }).map((d) => d.toISOString());
    const mutated = fc.tuple(valid, fc.nat(23), fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(44, 45, 46, 58, 84, 116, 32, 90, 122, 47, 59))).map(([text, at, byte]) => {
      const b = bytes(text);
      b[at] = byte;
      return b;
    });
    fc.assert(
      fc.property(fc.oneof(valid.map(bytes), mutated), (b) => {
        // Arrange: the 24 bytes between two commas.
        const buf = Buffer.concat([bytes(','), b, bytes(',')]);
        // Act
        const fast = parseIsoMillisUtc24(buf, 1);
        const general = parseIsoBytes(buf, 1, 25);
        // Assert
        if (!Number.isNaN(fast)) expect(fast).toBe(general);
        const plainForm = /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d\.\d{3}Z$/.test(b.toString('latin1'));
        if (plainForm) expect(fast).toEqual(general);
        else expect(fast).toBeNaN();
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseIsoMillisUtc24String', () => {
  it('reads what toISOString writes exactly as Date.parse does (property)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('0100-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), (date) => {
        const text = date.toISOString();
        expect(parseIsoMillisUtc24String(text)).toBe(Date.parse(text));
      }),
    );
  });

  it('gives NaN for any other text, and never a time Date.parse would not (property)', () => {
    const chars = fc.constantFrom(...'0123456789-:.TZtz +x'.split(''));
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01T00:00:00.000Z'), max: new Date('2100-01-01T00:00:00.000Z'), noInvalidDate: true }), fc.nat(23), chars, (date, at, c) => {
        // Arrange: one character of a valid time replaced.
        const iso = date.toISOString();
        const text = iso.slice(0, at) + c + iso.slice(at + 1);
        // Act
        const got = parseIsoMillisUtc24String(text);
        // Assert: NaN, or the time the general ISO parser reads (Date.parse's too, where it reads ISO).
        if (Number.isNaN(got)) return;
        expect(got).toBe(parseTimeString(text));
        if (text[10] === 'T') expect(got).toBe(Date.parse(text));
      }),
    );
    for (const text of ['2026-02-30T00:00:00.000Z', '2026-01-01T24:00:00.000Z', '2026-01-01T00:00:00.000+', '2026-01-01T00:00:00.00Z', 'ü026-01-01T00:00:00.000Z']) {
      expect(parseIsoMillisUtc24String(text), text).toBeNaN();
    }
  });
});

describe('timestampMs', () => {
  it('decodes every form a store or a caller hands back, and NaN for none', () => {
    const ms = Date.UTC(2026, 0, 21, 12, 0, 0, 250);
    expect(timestampMs(new Date(ms))).toBe(ms);
    expect(timestampMs(ms)).toBe(ms);
    expect(timestampMs('2026-01-21T12:00:00.250Z')).toBe(ms);
    expect(timestampMs('2026-01-21T14:00:00.250+02:00')).toBe(ms);
    expect(timestampMs(String(ms))).toBe(ms);
    expect(timestampMs(null)).toBeNaN();
    expect(timestampMs(undefined)).toBeNaN();
    expect(timestampMs('yesterday')).toBeNaN();
  });
});

describe('endOfDayBound', () => {
  it('turns a date alone into the next UTC midnight, and leaves a date-time (or anything else) to the caller', () => {
    expect(endOfDayBound('2026-01-21')).toBe(Date.UTC(2026, 0, 22));
    expect(endOfDayBound(' 2024-02-28 ')).toBe(Date.UTC(2024, 1, 29));
    expect(endOfDayBound('2026-01-21T00:00:00Z')).toBeNull();
    expect(endOfDayBound('2026-02-30')).toBeNull();
    expect(endOfDayBound('soon')).toBeNull();
  });
});
