import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AttemptsTable } from '../data/attempts-table.js';

/** CSV text of the table in chunks of 10,000 rows. */
function* attemptsCsvChunks(table: AttemptsTable): Generator<string> {
  yield 'user_id,concept_id,correct,order_id\n';
  const chunk: string[] = [];
  for (let q = 0; q < table.sequenceStart.length - 1; q++) {
    const start = table.sequenceStart[q];
    for (let i = start; i < table.sequenceStart[q + 1]; i++) {
      chunk.push(`${table.learnerIds[table.learner[i]]},${table.conceptIds[table.concept[i]]},${table.correct[i]},${i - start + 1}\n`);
      if (chunk.length === 10_000) {
        yield chunk.join('');
        chunk.length = 0;
      }
    }
  }
  if (chunk.length) yield chunk.join('');
}

/**
 * Write a simulated table as an attempts CSV (`user_id,concept_id,correct,order_id`) in the
 * layout every reader takes back, honouring back-pressure. `end: false` leaves `out` open
 * (for stdout).
 */
export async function writeAttemptsCsv(table: AttemptsTable, out: Writable, options: { end?: boolean } = {}): Promise<number> {
  await pipeline(Readable.from(attemptsCsvChunks(table)), out, { end: options.end ?? true });
  return table.length;
}
