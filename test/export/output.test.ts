/**
 * Export failure paths: a bad --out path is one typed line naming the path (not the temp file),
 * a stream that fails mid-way rejects (never hangs, never an unhandled 'error'), and a process
 * interrupted while writing removes its temp file, so the target is only ever a whole file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { BktError, StorageError, UsageError } from '../../src/errors.js';
import { PARAMS_COLUMNS } from '../../src/export/columns.js';
import { openOutput, outputError } from '../../src/export/output.js';
import { writeRows, type Row } from '../../src/export/writers.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const row: Row = {
  id: '11111111-1111-4111-8111-111111111111',
  concept_id: '22222222-2222-4222-8222-222222222222',
  p_L0: 0.3,
  p_T: 0.1,
  p_S: 0.1,
  p_G: 0.2,
  is_active: true,
};

/** A stream that accepts `okWrites` writes, then fails every write with ENOSPC. */
function failingStream(okWrites: number): Writable {
  let writes = 0;
  const stream = new Writable({
    highWaterMark: 16,
    write(_chunk, _encoding, callback) {
      writes += 1;
      if (writes > okWrites) callback(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
      else setImmediate(callback);
    },
  });
  // As openOutput does: the error reaches the writer through the stream's state, not the event.
  stream.on('error', () => {});
  return stream;
}

describe('openOutput', () => {
  it('a missing folder, a folder as target, a file as folder: UsageError (exit 2) naming the --out path, nothing created', () => {
    const cases: [string, RegExp][] = [
      [join(dir, 'no-such-folder', 'x.csv'), /^`out` .*no-such-folder\/x\.csv: the folder .*no-such-folder does not exist/],
      [dir, /^`out` .* is a folder/],
    ];
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    cases.push([join(file, 'x.csv'), /^`out` .*plain-file\/x\.csv: a part of the path is a file/]);
    for (const [path, message] of cases) {
      let error: unknown = null;
      try {
        openOutput(path);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as BktError).exitCode).toBe(2);
      expect((error as UsageError).message).toMatch(message);
      expect((error as UsageError).message).not.toMatch(/tmp-\d+/);
    }
  });

  it('a write failure (disk full) is a StorageError (exit 5) naming the target', () => {
    const error = outputError('/data/out.csv', Object.assign(new Error("ENOSPC: no space left on device, write '/data/out.csv.tmp-42'"), { code: 'ENOSPC' }));
    expect(error).toBeInstanceOf(StorageError);
    expect((error as BktError).exitCode).toBe(5);
    expect((error as StorageError).toLine()).toMatch(/^`out` \/data\/out\.csv: writing failed \(ENOSPC/);
  });

  it('commit renames the whole file into place; abort leaves neither file', async () => {
    const target = join(dir, 'whole.csv');
    const out = openOutput(target);
    await writeRows([row], PARAMS_COLUMNS, 'csv', out.stream);
    await out.commit();
    expect(readdirSync(dir).filter((n) => n.startsWith('whole.csv'))).toEqual(['whole.csv']);
    const aborted = join(dir, 'aborted.csv');
    const out2 = openOutput(aborted);
    await writeRows([row], PARAMS_COLUMNS, 'csv', out2.stream);
    out2.abort();
    expect(readdirSync(dir).filter((n) => n.startsWith('aborted.csv'))).toEqual([]);
  });
});

describe('writers on a failing stream', () => {
  for (const format of ['csv', 'ndjson', 'json', 'arrow'] as const) {
    it(`${format}: rejects with the stream's error instead of hanging`, async () => {
      const rows = Array.from({ length: 2000 }, () => row);
      await expect(writeRows(rows, PARAMS_COLUMNS, format, failingStream(2), { chunkRows: 50 })).rejects.toMatchObject({ code: 'ENOSPC' });
    });
  }
});

describe('an interrupted export', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal}: removes its temp file and exits ${signal === 'SIGINT' ? 130 : 143}`, () => {
      const sub = join(dir, signal);
      mkdirSync(sub);
      const target = join(sub, 'big.csv');
      // A child that opens the target, writes part of it and is then signalled mid-export.
      const script = `
        import { openOutput } from ${JSON.stringify(new URL('../../src/export/output.ts', import.meta.url).href)};
        const out = openOutput(${JSON.stringify(target)});
        out.stream.write('a,b\\n'.repeat(100000), () => {
          process.kill(process.pid, ${JSON.stringify(signal)});
          setTimeout(() => process.exit(0), 5000);
        });
      `;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(readdirSync(sub)).toEqual([]);
      expect(existsSync(target)).toBe(false);
    });
  }
});
