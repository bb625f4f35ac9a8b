import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { flagForOption, optionPathsToFlags } from '../../src/cli/option-flags.js';
import { closestName } from '../../src/cli/suggest.js';
import { fitColumns, formatCell, renderCsv, renderTable, wrapText, type TableColumn } from '../../src/cli/table.js';

interface Row {
  id: string;
  n: number;
  p: number;
  note: string;
}

const COLUMNS: TableColumn<Row>[] = [
  { header: 'id', value: (r) => r.id, shrinkTo: 6 },
  { header: 'n', value: (r) => r.n, align: 'right' },
  { header: 'p', value: (r) => r.p, align: 'right', decimals: 4 },
  { header: 'extra', value: (r) => r.n * 2, align: 'right', optional: true },
  { header: 'note', value: (r) => r.note, shrinkTo: 5 },
];

const rows = (count: number): Row[] =>
  Array.from({ length: count }, (_, i) => ({ id: `concept-${String(i).padStart(4, '0')}-long-name`, n: i, p: i / 7, note: 'a fairly long note about this row' }));

describe('renderTable', () => {
  it('prints a header, a dashed rule and one line per row, with no borders or row separators', async () => {
    // Arrange: widths are id 25, n 1, p 6, extra 1, note 32; gaps of 2 make 73 columns.
    const text = await renderTable(COLUMNS, rows(2), { width: 200, colour: false });
    const lines = text.split('\n');
    // Assert
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^id\s+n\s+p\s+extra\s+note$/);
    expect(lines[1]).toMatch(/^─+  ─  ─+  ─+  ─+$/);
    expect(lines[2]).toBe('concept-0000-long-name  0  0.0000      0  a fairly long note about this row');
    expect(lines[3]).toBe('concept-0001-long-name  1  0.1429      2  a fairly long note about this row');
    expect(text).not.toMatch(/[│┼├┤┌┐└┘]/);
    expect(text).not.toMatch(/\u001b\[/);
  });

  it('shortens long text columns first, then drops optional columns, to fit the width', async () => {
    const shrunk = await renderTable(COLUMNS, rows(3), { width: 60, colour: false });
    for (const line of shrunk.split('\n')) expect(line.length, line).toBeLessThanOrEqual(60);
    expect(shrunk).toContain('…');
    expect(shrunk.split('\n')[0]).toContain('extra');
    const dropped = await renderTable(COLUMNS, rows(3), { width: 30, colour: false });
    expect(dropped.split('\n')[0]).not.toContain('extra');
    expect(dropped.replace(/\n/g, ' ')).toContain('(extra hidden to fit 30 columns; --csv or --json show them)');
  });

  it('fits any width the columns can shrink to (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 30, max: 160 }), fc.integer({ min: 1, max: 5 }), async (width, count) => {
        // Arrange: the narrowest table is id 6 + n 1 + p 6 + note 5 + 3 gaps of 2 = 24 columns.
        const text = await renderTable(COLUMNS, rows(count), { width, colour: false });
        // Assert
        for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(width);
      }),
      { numRuns: 40 },
    );
  });

  it('stops after the limit with a count and how to see the rest; --all prints every row', async () => {
    const short = await renderTable(COLUMNS, rows(30), { width: 200, colour: false, limit: 5, noun: 'concepts' });
    expect(short.split('\n')).toHaveLength(2 + 5 + 1);
    expect(short).toContain('... and 25 more concepts (--all to list them; --csv or --json for every field)');
    const all = await renderTable(COLUMNS, rows(30), { width: 200, colour: false, limit: 5, all: true });
    expect(all.split('\n')).toHaveLength(2 + 30);
  });

  it('prints CSV with every row and raw values under --csv', async () => {
    const csv = await renderTable(COLUMNS, rows(30), { csv: true, limit: 5 });
    const lines = csv.split('\n');
    expect(lines).toHaveLength(31);
    expect(lines[0]).toBe('id,n,p,extra,note');
    expect(lines[8]).toBe(`concept-0007-long-name,7,1,14,a fairly long note about this row`);
    expect(lines[2]).toBe(`concept-0001-long-name,1,${1 / 7},2,a fairly long note about this row`);
    expect(renderCsv([{ header: 'a,b', value: (r: { v: string | null }) => r.v }], [{ v: 'say "hi"' }, { v: null }])).toBe('"a,b"\n"say ""hi"""\n\n');
  });
});

describe('fitColumns', () => {
  it('keeps natural widths when they fit, and takes space from the widest shrinkable column first', () => {
    // Arrange: natural widths 10 and 20 plus a gap of 2 = 32.
    const cells = [['aaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbb']];
    const flags = [{ shrinkTo: 4 }, { shrinkTo: 4 }];
    expect(fitColumns(['x', 'y'], cells, flags, 40)).toEqual({ keep: [0, 1], widths: [10, 20] });
    // 26 columns: 6 must go, all from the wider one (20 -> 14).
    expect(fitColumns(['x', 'y'], cells, flags, 26)).toEqual({ keep: [0, 1], widths: [10, 14] });
    // 16 columns: both shrink toward equal widths (7 + 7 + 2).
    expect(fitColumns(['x', 'y'], cells, flags, 16)).toEqual({ keep: [0, 1], widths: [7, 7] });
  });
});

describe('formatCell and wrapText', () => {
  it('formats integers as is, other numbers with 4 decimals, tiny ones in exponent form, null blank', () => {
    expect(formatCell(12)).toBe('12');
    expect(formatCell(0.123456)).toBe('0.1235');
    expect(formatCell(0.00001234)).toBe('1.2e-5');
    expect(formatCell(null)).toBe('');
    expect(formatCell(Number.NaN)).toBe('');
    expect(formatCell(true)).toBe('yes');
  });

  it('wraps prose at spaces to the width', () => {
    expect(wrapText('one two three four', 9)).toBe('one two\nthree\nfour');
    expect(wrapText('one two', Number.POSITIVE_INFINITY)).toBe('one two');
  });
});

describe('option paths and suggestions', () => {
  it('maps option paths to flags: the table, else the kebab-case of the last segment', () => {
    expect(flagForOption('maxIterations')).toBe('--max-iterations');
    expect(flagForOption('columns.user')).toBe('--col-user');
    expect(flagForOption('conceptIds.2')).toBe('--concept-id');
    expect(flagForOption('bounds.L0_min')).toBe('--L0-min');
    expect(flagForOption('fixed.p_G')).toBe('--fix');
    expect(flagForOption('minAuc')).toBe('--min-auc');
    expect(optionPathsToFlags('`fromDate` is after `toDate`; map it with `columns.time`')).toBe('--from-date is after --to-date; map it with --col-time');
  });

  it('maps the option paths whose flag is not their kebab-case, and the nested paths src/ names', () => {
    expect(flagForOption('fixedByConcept')).toBe('--fix-from');
    expect(flagForOption('dataFrom')).toBe('--from-date');
    expect(flagForOption('dataTo')).toBe('--to-date');
    expect(flagForOption('answeredAt')).toBe('--at');
    expect(flagForOption('recomputeWaitMs')).toBe('--recompute-wait');
    expect(flagForOption('shutdownTimeoutMs')).toBe('--shutdown-timeout');
    expect(flagForOption('jwtSecret')).toBe('the JWT secret (BKT_JWT_SECRET or --jwt-secret-file)');
    expect(flagForOption('serviceToken')).toBe('BKT_SERVICE_TOKEN');
    expect(flagForOption('sessionId')).toBe('--session');
    expect(flagForOption('variants.multiprior')).toBe('--multiprior');
    expect(flagForOption('persist.force')).toBe('--force');
    expect(flagForOption('source.conceptPattern')).toBe('--concept-pattern');
    expect(optionPathsToFlags('cannot read `fixedByConcept` file f.csv: ENOENT. Check the `fixedByConcept` path')).toBe('cannot read --fix-from file f.csv: ENOENT. Check the --fix-from path');
    expect(optionPathsToFlags('`answeredAt` "x" is not a time; drop `failFast`, or pass `db`')).toBe('--at "x" is not a time; drop --fail-fast, or pass --db');
  });

  it('suggests the closest name only when it is a likely typo', () => {
    expect(closestName('imput', ['input', 'out', 'format'])).toBe('input');
    expect(closestName('fitt', ['fit', 'evaluate', 'db:check'])).toBe('fit');
    expect(closestName('zzzzzz', ['input', 'out'])).toBeNull();
  });
});

describe('formatCell with fixed decimals', () => {
  it('prints probabilities with the same decimals however small', () => {
    expect(formatCell(2.4e-14, 4, true)).toBe('0.0000');
    expect(formatCell(1, 4, true)).toBe('1.0000');
  });
});
