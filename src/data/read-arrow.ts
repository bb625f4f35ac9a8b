import { InputError } from '../errors.js';
import type { RowSink } from './row-sink.js';
import type { SinkFactory } from './read-csv.js';

/**
 * Read an Arrow IPC file or stream (apache-arrow's `tableFromIPC` recognises both) into a
 * RowSink. Ids may be strings (plain or dictionary-encoded) or integers; `correct` bool, integer
 * or string; time a Timestamp or Date column (any unit; apache-arrow returns epoch ms), an
 * integer epoch (seconds or ms by the usual rule) or ISO strings. Errors name the 1-based row.
 * @throws InputError when the bytes are not Arrow IPC, the table is empty, or a value is bad.
 */
export async function readArrow(bytes: Uint8Array, source: string, makeSink: SinkFactory): Promise<RowSink> {
  const arrow = await import('apache-arrow');
  let table: import('apache-arrow').Table;
  try {
    table = arrow.tableFromIPC(bytes);
  } catch (error) {
    throw new InputError(`${source}: not an Arrow IPC file or stream (${(error as Error).message})`, 'Pass --format to name the real format');
  }
  const names = table.schema.fields.map((f) => f.name);
  if (names.length === 0 && table.numRows === 0) {
    throw new InputError(`${source} is empty`, 'Write a table with user_id, concept_id and correct columns');
  }
  const sink = makeSink(names, `${source} (Arrow schema)`);
  if (table.numRows === 0) throw new InputError(`${source} has no rows`, 'Give a table with at least one attempt');
  const ix = sink.index;
  const timeField = ix.time >= 0 ? table.schema.fields[ix.time] : null;
  const timeIsMs = timeField !== null && (arrow.DataType.isTimestamp(timeField.type) || arrow.DataType.isDate(timeField.type));
  let row = 0;
  for (const batch of table.batches) {
    const col = (i: number) => (i >= 0 ? batch.getChildAt(i) : null);
    const user = col(ix.user)!;
    const concept = col(ix.concept)!;
    const correct = col(ix.correct)!;
    const time = col(ix.time);
    const order = col(ix.order);
    const question = col(ix.question);
    const classes = sink.classColumns.map((c) => col(c.index)!);
    const extra = col(sink.extraIndex);
    for (let i = 0; i < batch.numRows; i++) {
      row++;
      sink.addValues(
        user.get(i),
        concept.get(i),
        correct.get(i),
        time ? time.get(i) : null,
        order ? order.get(i) : null,
        question ? question.get(i) : null,
        row,
        timeIsMs,
        classes.length > 0 ? classes.map((c) => c.get(i)) : undefined,
        extra ? extra.get(i) : null,
      );
    }
  }
  return sink;
}
