import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as arrow from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tableFromIpc, walkMessages } from '../../src/data/arrow-ipc.js';
import { bktIn } from '../support/in-process.js';

/**
 * Damaged Arrow files that make apache-arrow's tableFromIPC loop forever are refused, and every
 * undamaged file reads as tableFromIPC reads it. The two files in fixtures/damaged/ are what a
 * fuzzer made of a 60-row file by changing one to three bytes.
 */
const DAMAGED = fileURLToPath(new URL('../../fixtures/damaged/', import.meta.url));

function sampleTable(rows: { user: string; concept: string; correct: number }[]): arrow.Table {
  return new arrow.Table({
    user_id: arrow.vectorFromArray(rows.map((r) => r.user), new arrow.Utf8()),
    concept_id: arrow.vectorFromArray(rows.map((r) => r.concept), new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
    correct: arrow.vectorFromArray(rows.map((r) => r.correct), new arrow.Int8()),
  });
}

/** A file whose first message (the schema, after the 8-byte signature) has metadata length -8. */
function fileWithNegativeLength(): Uint8Array {
  const bytes = Buffer.from(arrow.tableToIPC(new arrow.Table({ correct: arrow.vectorFromArray([1, 0, 1], new arrow.Int32()) }), 'file'));
  expect(bytes.readInt32LE(8), 'the first message starts with the continuation marker').toBe(-1);
  bytes.writeInt32LE(-8, 12);
  return bytes;
}

/**
 * Run `code` (an ES module body with `bytes` given) in a child with a time limit: a read that
 * loops forever cannot be interrupted inside the test's own process.
 */
function inChild(code: string, bytes: Uint8Array): { status: number | null; stdout: string; stderr: string } {
  const module = new URL('../../dist/src/data/arrow-ipc.js', import.meta.url).href;
  const script = `const arrow = await import('apache-arrow'); const { tableFromIpc } = await import(${JSON.stringify(module)});
    const bytes = new Uint8Array(Buffer.from(process.argv[1], 'base64')); ${code}`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script, Buffer.from(bytes).toString('base64')], { encoding: 'utf8', timeout: 30_000 });
}

describe('reading Arrow IPC', () => {
  it('reads every undamaged file and stream as apache-arrow does', async () => {
    const row = fc.record({ user: fc.string({ maxLength: 6 }), concept: fc.constantFrom('a', 'b', 'long concept name'), correct: fc.integer({ min: 0, max: 1 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 0, maxLength: 40 }), fc.constantFrom('file', 'stream'), async (rows, kind) => {
        const bytes = arrow.tableToIPC(sampleTable(rows), kind as 'file' | 'stream');
        const ours = await tableFromIpc(arrow, bytes);
        const theirs = arrow.tableFromIPC(bytes);
        expect(ours.numRows).toBe(theirs.numRows);
        expect(ours.toArray().map((r) => r.toJSON())).toEqual(theirs.toArray().map((r) => r.toJSON()));
      }),
      { numRuns: 60 },
    );
  });

  it('finds every record batch of a file where its footer places them', async () => {
    const bytes = arrow.tableToIPC(sampleTable([{ user: 'u', concept: 'c', correct: 0 }]), 'file');
    const reader = arrow.RecordBatchReader.from(bytes);
    reader.open();
    const offsets = Array.from({ length: reader.numRecordBatches }, (_, i) => Number(reader.footer!.getRecordBatch(i)!.offset));
    expect(offsets.length).toBeGreaterThan(0);
    const [{ ByteBuffer }, { Message: MessageTable }, { Schema: SchemaTable }, { Footer: FooterTable }] = await Promise.all([
      import('flatbuffers'),
      import('apache-arrow/fb/message'),
      import('apache-arrow/fb/schema'),
      import('apache-arrow/fb/footer'),
    ]);
    const walk = walkMessages(arrow, { ByteBuffer, MessageTable, SchemaTable, FooterTable }, bytes);
    expect([...walk.recordBatchOffsets]).toEqual(offsets);
    expect(walk.negativeLengthAt).toBe(-1);
    expect(walk.runawaySchemaAt).toBe(-1);
  });

  it.each([
    ['a negative metadata length', () => fileWithNegativeLength(), /message at byte 8 has a negative metadata length/],
    ['a footer entry at a message that is no record batch', () => readFileSync(`${DAMAGED}footer-batch-at-other-message.arrow`), /footer lists 1 record batches where the file holds 0/],
    ['a footer schema whose fields point back into themselves', () => readFileSync(`${DAMAGED}footer-schema-cycle.arrow`), /schema in its footer has more than 100000 fields or 64 levels/],
  ])('refuses %s at once, where apache-arrow alone never returns', (_name, make, message) => {
    const bytes = make();
    const ours = inChild(`try { await tableFromIpc(arrow, bytes); console.log('read'); } catch (e) { console.log(e.message); }`, bytes);
    expect(ours.status, ours.stderr).toBe(0);
    expect(ours.stdout).toMatch(message);
    // The same bytes given to apache-arrow directly: still running when the 2 s limit kills it.
    const theirs = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `const arrow = await import('apache-arrow'); try { arrow.tableFromIPC(new Uint8Array(Buffer.from(process.argv[1], 'base64'))); } catch {} console.log('returned');`, Buffer.from(bytes).toString('base64')],
      { encoding: 'utf8', timeout: 2_000 },
    );
    expect(theirs.stdout, 'apache-arrow returned: the fixture no longer shows the loop it guards against').toBe('');
  });

  it('fit names a damaged Arrow file and exits 3', async () => {
    const r = await bktIn(['fit', '--input', `${DAMAGED}footer-schema-cycle.arrow`]);
    expect(r.status, r.describe).toBe(3);
    expect(r.stderr).toMatch(/footer-schema-cycle\.arrow is a truncated or damaged Arrow file/);
  });
});
