/**
 * apache-arrow's `tableFromIPC`, refusing the damaged framing that makes it loop forever.
 *
 * Its readers take the file's own directions on trust, and two kinds of damage (a flipped byte
 * is enough; the input fuzz test found both on 60-row files) make them read the same bytes again
 * and again at full CPU, never returning or throwing:
 * - a negative metadata length moves the sequential reader's position backwards;
 * - in the file format, a footer entry for a record batch that points at a message of another
 *   kind (a schema or a dictionary) is read again without end, since only a record batch moves
 *   the reader to the next entry;
 * - a schema whose field tree points back into itself is decoded along every path, which grows
 *   exponentially with its depth.
 * The readers cannot be interrupted from outside, so both are checked first by walking the
 * messages exactly as the sequential reader will. Any other damage is left to apache-arrow,
 * whose own errors are thrown as they are.
 */

type ArrowModule = typeof import('apache-arrow');
type FieldTable = import('apache-arrow/fb/field').Field;

/** apache-arrow's generated flatbuffer readers, loaded with apache-arrow (never at start-up). */
interface FlatbufferReaders {
  ByteBuffer: typeof import('flatbuffers').ByteBuffer;
  MessageTable: typeof import('apache-arrow/fb/message').Message;
  SchemaTable: typeof import('apache-arrow/fb/schema').Schema;
  FooterTable: typeof import('apache-arrow/fb/footer').Footer;
}

/** The footer's length (int32) and the closing "ARROW1" that end an Arrow file. */
const FILE_TRAILER_BYTES = 10;

/**
 * Most fields a schema may hold, nested ones included: far above any table of attempts (a few
 * columns), and a bound on the work of walking a damaged tree that points back into itself.
 */
const MAX_SCHEMA_FIELDS = 100_000;
/** Deepest nesting of fields accepted (list of struct of list...); real schemas nest a few levels. */
const MAX_FIELD_DEPTH = 64;

/** Length of the Arrow file signature with its padding ("ARROW1\0\0"); a stream has none. */
const FILE_PREAMBLE_BYTES = 8;
/** The 0xFFFFFFFF that precedes each metadata length since Arrow 0.15. */
const CONTINUATION = -1;

export interface MessageWalk {
  /** Byte offset of the first message whose metadata length is negative, or -1. */
  negativeLengthAt: number;
  /** Byte offset of the first schema whose field tree is too large or too deep to be real, or -1. */
  runawaySchemaAt: number;
  /** Byte offsets at which a record batch message starts (its length prefix). */
  recordBatchOffsets: Set<number>;
}

/**
 * Walk the messages in the order apache-arrow's sequential reader visits them: like that reader,
 * step over the bodies of record and dictionary batches only, and stop at the end-of-stream
 * marker, at the end of the bytes, at a negative length, or where the reader itself would throw.
 */
export function walkMessages(arrow: ArrowModule, fb: FlatbufferReaders, bytes: Uint8Array): MessageWalk {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const recordBatchOffsets = new Set<number>();
  let position = isArrowFile(bytes) ? FILE_PREAMBLE_BYTES : 0;
  while (position + 4 <= bytes.length) {
    const prefixAt = position;
    let length = view.getInt32(position, true);
    position += 4;
    if (length === CONTINUATION) {
      if (position + 4 > bytes.length) break;
      length = view.getInt32(position, true);
      position += 4;
    }
    if (length === 0) break;
    if (length < 0) return { negativeLengthAt: prefixAt, runawaySchemaAt: -1, recordBatchOffsets };
    if (position + length > bytes.length) break;
    let message: InstanceType<ArrowModule['Message']>;
    try {
      message = arrow.Message.decode(bytes.subarray(position, position + length));
    } catch {
      break;
    }
    if (message.isSchema() && !schemaTreeIsBounded(fb, bytes.subarray(position, position + length))) {
      return { negativeLengthAt: -1, runawaySchemaAt: prefixAt, recordBatchOffsets };
    }
    position += length;
    if (message.isRecordBatch()) recordBatchOffsets.add(prefixAt);
    if (message.isRecordBatch() || message.isDictionaryBatch()) position += Math.max(0, Number(message.bodyLength));
  }
  return { negativeLengthAt: -1, runawaySchemaAt: -1, recordBatchOffsets };
}

/**
 * Whether the schema message's field tree has at most MAX_SCHEMA_FIELDS fields and
 * MAX_FIELD_DEPTH levels, counted on the raw flatbuffer (apache-arrow's decoding of the tree is the
 * unbounded work this avoids). A tree the flatbuffer cannot even be read for is left to apache-arrow.
 */
function schemaTreeIsBounded(fb: FlatbufferReaders, metadata: Uint8Array, where: 'message' | 'footer' = 'message'): boolean {
  let visited = 0;
  const within = (field: FieldTable, depth: number): boolean => {
    if (++visited > MAX_SCHEMA_FIELDS || depth > MAX_FIELD_DEPTH) return false;
    for (let i = 0, n = field.childrenLength(); i < n; i++) {
      const child = field.children(i);
      if (child && !within(child, depth + 1)) return false;
    }
    return true;
  };
  try {
    const buffer = new fb.ByteBuffer(metadata);
    const schema =
      where === 'footer'
        ? fb.FooterTable.getRootAsFooter(buffer).schema()
        : (fb.MessageTable.getRootAsMessage(buffer).header(new fb.SchemaTable()) as InstanceType<FlatbufferReaders['SchemaTable']> | null);
    if (!schema) return true;
    for (let i = 0, n = schema.fieldsLength(); i < n; i++) {
      const field = schema.fields(i);
      if (field && !within(field, 1)) return false;
    }
    return true;
  } catch {
    return true;
  }
}

/** `arrow.tableFromIPC(bytes)`, or an Error naming the damage instead of never returning. */
export async function tableFromIpc(arrow: ArrowModule, bytes: Uint8Array): Promise<import('apache-arrow').Table> {
  const [{ ByteBuffer }, { Message: MessageTable }, { Schema: SchemaTable }, { Footer: FooterTable }] = await Promise.all([
    import('flatbuffers'),
    import('apache-arrow/fb/message'),
    import('apache-arrow/fb/schema'),
    import('apache-arrow/fb/footer'),
  ]);
  const fb = { ByteBuffer, MessageTable, SchemaTable, FooterTable };
  const walk = walkMessages(arrow, fb, bytes);
  if (walk.negativeLengthAt >= 0) throw new Error(`the message at byte ${walk.negativeLengthAt} has a negative metadata length`);
  if (walk.runawaySchemaAt >= 0) throw new Error(`the schema at byte ${walk.runawaySchemaAt} has more than ${MAX_SCHEMA_FIELDS} fields or ${MAX_FIELD_DEPTH} levels`);
  const reader = arrow.RecordBatchReader.from(bytes);
  if (reader.isFile()) {
    // The footer repeats the schema, and apache-arrow decodes that copy first.
    const footerEnd = bytes.length - FILE_TRAILER_BYTES;
    const footerLength = footerEnd >= 0 ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(footerEnd, true) : -1;
    if (footerLength > 0 && footerLength <= footerEnd && !schemaTreeIsBounded(fb, bytes.subarray(footerEnd - footerLength, footerEnd), 'footer')) {
      throw new Error(`the schema in its footer has more than ${MAX_SCHEMA_FIELDS} fields or ${MAX_FIELD_DEPTH} levels`);
    }
    reader.open();
    const footer = reader.footer;
    const count = reader.numRecordBatches;
    if (count > walk.recordBatchOffsets.size) {
      throw new Error(`its footer lists ${count} record batches where the file holds ${walk.recordBatchOffsets.size}`);
    }
    for (let i = 0; i < count; i++) {
      const offset = Number(footer?.getRecordBatch(i)?.offset ?? -1);
      if (!walk.recordBatchOffsets.has(offset)) throw new Error(`its footer places record batch ${i} at byte ${offset}, where none starts`);
    }
  }
  return new arrow.Table(reader.readAll());
}

function isArrowFile(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && Buffer.from(bytes.buffer, bytes.byteOffset, 6).toString('latin1') === 'ARROW1';
}
