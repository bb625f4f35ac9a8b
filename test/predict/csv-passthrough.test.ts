import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { readAttempts } from '../../src/data/read-attempts.js';
import { appendToCsvRecords } from '../../src/predict/csv-passthrough.js';
import { openInputRows } from '../../src/predict/input-rows.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-passthrough-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function passthrough(path: string): Promise<{ text: string; header: string; records: number }> {
  let header = '';
  let records = -1;
  const parts: Buffer[] = [];
  const append = { header: ',k', suffix: (k: number) => `,${k}` };
  for await (const b of appendToCsvRecords(path, 'test', append, (h) => (header = h.toString()), (n) => (records = n))) parts.push(b);
  return { text: Buffer.concat(parts).toString('utf8'), header, records };
}

describe('appendToCsvRecords', () => {
  it('appends to each record as written: BOM dropped, CRLF, empty lines, quoted line breaks, no final newline', async () => {
    const path = join(dir, 'a.csv');
    writeFileSync(path, '\uFEFFuser_id,skill_name,correct\r\nu1,"a, b",1\r\n\r\nu2,"line\nbreak ""q""",0\nu3,é,1');
    const out = await passthrough(path);
    expect(out.header).toBe('user_id,skill_name,correct');
    expect(out.records).toBe(3);
    expect(out.text).toBe('user_id,skill_name,correct,k\nu1,"a, b",1,0\nu2,"line\nbreak ""q""",0,1\nu3,é,1,2\n');
  });

  it('pairs each record with its row in the attempts table across many input chunks (gzipped, quoted fields)', async () => {
    // About 3 MB: several 1 MB file reads and 256 KB gunzip chunks, records cut at every boundary.
    const lines = ['user_id,skill_name,correct,note'];
    for (let i = 0; i < 60_000; i++) {
      const note = i % 7 === 0 ? `"multi\nline, ${i}"` : i % 5 === 0 ? `"say ""${i}"""` : `plain ${i}`;
      lines.push(`u${i % 97},s${i % 13},${i % 3 === 0 ? 0 : 1},${note}`);
    }
    const path = join(dir, 'big.csv.gz');
    writeFileSync(path, gzipSync(lines.join('\n') + '\n'));
    const { summary } = await readAttempts({ input: path, csvParser: 'csv-parse' });
    const out = await passthrough(path);
    expect(out.records).toBe(summary.rows_read);
    const rows = parse(out.text, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(60_000);
    rows.forEach((row, k) => {
      expect(row.k).toBe(String(k));
      expect(row.user_id).toBe(`u${k % 97}`);
    });
    expect(rows[7].note).toBe('multi\nline, 7');
    expect(rows[5].note).toBe('say "5"');
  });
});

describe('openInputRows: CSV columns for the other output formats', () => {
  it('splits plain and quoted records into text columns', async () => {
    const path = join(dir, 'b.csv');
    writeFileSync(path, 'user_id,skill_name,correct\nu1,"a, b",1\n\nu2,"x\ny",0\n');
    const rows = await openInputRows({ input: path, format: 'csv' }, 'b.csv');
    expect(rows.columns.map((c) => [c.name, c.type])).toEqual([
      ['user_id', 'text'],
      ['skill_name', 'text'],
      ['correct', 'text'],
    ]);
    const chunks = [];
    for await (const chunk of rows.chunks) chunks.push(chunk);
    expect(chunks.map((c) => c.columns.map((col) => Array.from(col)))).toEqual([
      [
        ['u1', 'u2'],
        ['a, b', 'x\ny'],
        ['1', '0'],
      ],
    ]);
  });
});
