import type { AttemptsTable, ClassColumn } from './attempts-table.js';

/**
 * Rows are stored in typed arrays over resizable ArrayBuffers: growing one commits more of an
 * address range set aside up front, without copying, and shrinking one to 0 returns its memory at
 * once (no wait for the garbage collector). `build()` releases each input column as soon as its
 * sorted copy exists, so the peak stays near (row columns) + 8 bytes per row.
 */
const INITIAL_CAPACITY = 1024;
/** Largest resizable ArrayBuffer V8 allows: 4 GiB (536 M rows for the 8-byte columns). */
const MAX_COLUMN_BYTES = 2 ** 32;

/** ES2024 resizable ArrayBuffer (Node 20 has it; TypeScript's ES2022 lib does not declare it). */
interface ResizableArrayBuffer extends ArrayBuffer {
  readonly maxByteLength: number;
  resize(byteLength: number): void;
}

function resizableBuffer(byteLength: number): ResizableArrayBuffer {
  const Ctor = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ResizableArrayBuffer;
  // The maximum is reserved address space, not memory; should a reservation be refused (a
  // tight `ulimit -v`), settle for a smaller one.
  for (let max = MAX_COLUMN_BYTES; ; max /= 4) {
    try {
      return new Ctor(byteLength, { maxByteLength: Math.max(max, byteLength) });
    } catch (error) {
      if (max <= byteLength || max <= 2 ** 24) throw error;
    }
  }
}

/** A typed array that tracks the length of a resizable buffer. */
class Column<T extends Uint8Array | Uint32Array | Int32Array | Float64Array> {
  readonly buffer: ResizableArrayBuffer;
  readonly values: T;

  constructor(
    private readonly ctor: { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
    capacity: number,
    private readonly perRow = 1,
  ) {
    this.buffer = resizableBuffer(capacity * perRow * ctor.BYTES_PER_ELEMENT);
    this.values = new ctor(this.buffer);
  }

  /** Most rows the reserved address range holds. */
  get maxRows(): number {
    return Math.floor(this.buffer.maxByteLength / (this.perRow * this.ctor.BYTES_PER_ELEMENT));
  }

  resize(capacity: number): void {
    this.buffer.resize(capacity * this.perRow * this.ctor.BYTES_PER_ELEMENT);
  }

  /** Give the memory back now. */
  release(): void {
    this.buffer.resize(0);
  }
}

/** How rows are ordered inside each (concept, learner) sequence. */
export type SequenceOrder = 'time' | 'order' | 'file';

/** What one `build()` did besides producing the table. */
export interface BuildStats {
  /** Rows added before building. */
  rowsAdded: number;
  /** Rows dropped because their (concept, learner) sequence was shorter than minAttemptsPerSequence. */
  rowsDroppedShortSequences: number;
  /** Which key ordered rows inside a sequence. */
  orderedBy: SequenceOrder;
  /** Sequences that were not already in order in the input and had to be sorted. */
  sequencesSorted: number;
}

/** Options of `AttemptsTableBuilder.build`. */
export interface BuildOptions {
  /** Drop (concept, learner) sequences with fewer rows than this (`--min-attempts-per-user`). Default 1 (keep all). */
  minAttemptsPerSequence?: number;
  /**
   * Order of the concept dictionary (and so of concepts in the table): 'first-seen' (default,
   * as files list them) or 'sorted' (code-unit order of the ids: the same table whatever order
   * the rows arrived in, as a database returns them without ORDER BY).
   */
  conceptOrder?: 'first-seen' | 'sorted';
  /**
   * Also return `inputRow`, each table row's position among the rows added (4 bytes per row), so
   * results computed in table order can be put back in input order (`bkt predict`). Default false.
   */
  keepInputRow?: boolean;
}

/** Rows given column by column to `AttemptsTableBuilder.fromArrays`. */
export interface AttemptRows {
  learner: ArrayLike<string>;
  concept: ArrayLike<string>;
  correct: ArrayLike<number>;
  /** Epoch milliseconds; NaN for none. */
  time?: ArrayLike<number>;
  /** Order key (pyBKT `order_id`); NaN for none. */
  order?: ArrayLike<number>;
  question?: ArrayLike<string | null>;
  /** Extra class columns by source name (see AttemptsTable.classColumns); null = empty. */
  classes?: Record<string, ArrayLike<string | null>>;
}

class Dictionary {
  ids: string[] = [];
  private readonly index = new Map<string, number>();

  /** Make old index order[i] the new index i. */
  reorder(order: readonly number[]): void {
    this.ids = order.map((old) => this.ids[old]);
    this.ids.forEach((id, i) => this.index.set(id, i));
  }

  intern(id: string): number {
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.ids.length;
      this.ids.push(id);
      this.index.set(id, i);
    }
    return i;
  }
}

/**
 * Accumulates attempts row by row into growable typed columns with dictionary-encoded ids, then
 * sorts them once into an AttemptsTable.
 *
 * Ordering (see AttemptsTable): rows are sorted by concept index, then learner index (both
 * dictionaries in order of first appearance, or concepts sorted by id on request), then inside
 * each sequence by time when any row had a time, ties by order when rows have one; else by order
 * when any row had one; else by insertion (file) order. Remaining ties, and rows without a key
 * (NaN, placed after keyed rows), keep insertion order. Sorting is a stable counting
 * sort by concept (O(n + concepts)), then per concept a stable counting sort by learner over the
 * learners present (O(rows + d log d) for d distinct learners; skipped when already grouped), then
 * a comparison sort only of sequences not already in key order (O(n) for ordered input).
 *
 * `build()` consumes the builder; call it once.
 */
export class AttemptsTableBuilder {
  private readonly learners = new Dictionary();
  private readonly concepts = new Dictionary();
  private readonly questions = new Dictionary();

  private capacity = INITIAL_CAPACITY;
  /** Learner and concept index of row r at 2r and 2r + 1 (one stream for the sort to read). */
  private ids = new Column(Uint32Array, INITIAL_CAPACITY, 2);
  private idColumn: Uint32Array = this.ids.values;
  private correct = new Column(Uint8Array, INITIAL_CAPACITY);
  private correctColumn: Uint8Array = this.correct.values;
  /** Optional columns stay null until the first row with a value (so an absent column costs nothing). */
  private time: Column<Float64Array> | null = null;
  private timeColumn: Float64Array | null = null;
  private order: Column<Float64Array> | null = null;
  private orderColumn: Float64Array | null = null;
  private question: Column<Int32Array> | null = null;
  private questionColumn: Int32Array | null = null;
  /** Carried class columns (declareClassColumns), each with its own dictionary. */
  private classNames: string[] = [];
  private classDictionaries: Dictionary[] = [];
  private classes: Column<Int32Array>[] = [];

  private n = 0;
  private built = false;
  private stats: BuildStats | null = null;

  /** Number of rows added so far. */
  get length(): number {
    return this.n;
  }

  /** Statistics of the last `build()`, or null before it. */
  get buildStats(): BuildStats | null {
    return this.stats;
  }

  /** Dictionary index of a learner id, adding it when new. */
  learnerIndex(id: string): number {
    return this.learners.intern(id);
  }

  /** Dictionary index of a concept id, adding it when new. */
  conceptIndex(id: string): number {
    return this.concepts.intern(id);
  }

  /**
   * Carry these extra source columns into the table's `classColumns` (call before the first row).
   * Each row's values are set with setClass right after it is added; unset values are empty (-1).
   */
  declareClassColumns(names: readonly string[]): void {
    if (this.n > 0) throw new Error('AttemptsTableBuilder: declare class columns before adding rows');
    this.classNames = [...names];
    this.classDictionaries = names.map(() => new Dictionary());
    this.classes = names.map(() => {
      const column = new Column(Int32Array, this.capacity);
      column.values.fill(-1);
      return column;
    });
  }

  /** Number of declared class columns. */
  get classColumnCount(): number {
    return this.classNames.length;
  }

  /** Dictionary index of a value of class column `slot`, adding it when new. */
  classIndex(slot: number, id: string): number {
    return this.classDictionaries[slot].intern(id);
  }

  /** Set class column `slot` of the row added last to dictionary index `value` (-1 = empty). */
  setClass(slot: number, value: number): void {
    this.classes[slot].values[this.n - 1] = value;
  }

  /** Dictionary index of a question id, adding it when new. */
  questionIndex(id: string): number {
    return this.questions.intern(id);
  }

  /**
   * Add one attempt.
   * @param correct 1 correct, 0 wrong.
   * @param timeMs answer time in epoch milliseconds, NaN when unknown.
   * @param order order key (e.g. pyBKT `order_id`), NaN when unknown.
   * @param questionId question id, or null.
   */
  add(learnerId: string, conceptId: string, correct: 0 | 1, timeMs: number, order: number, questionId: string | null): void {
    this.addIndexed(
      this.learners.intern(learnerId),
      this.concepts.intern(conceptId),
      correct,
      timeMs,
      order,
      questionId === null ? -1 : this.questions.intern(questionId),
    );
  }

  /**
   * Add one attempt whose ids were already interned with learnerIndex/conceptIndex/questionIndex
   * (question -1 = none). Readers use this to skip a Map lookup per row.
   */
  addIndexed(learner: number, concept: number, correct: number, timeMs: number, order: number, question: number): void {
    if (this.built) throw new Error('AttemptsTableBuilder: build() was already called');
    if (correct !== 0 && correct !== 1) throw new RangeError(`correct must be 0 or 1 (got ${correct})`);
    const row = this.n;
    if (row === this.capacity) this.grow();
    this.idColumn[2 * row] = learner;
    this.idColumn[2 * row + 1] = concept;
    this.correctColumn[row] = correct;
    if (this.timeColumn !== null) this.timeColumn[row] = timeMs;
    else if (timeMs === timeMs) {
      this.time = this.startFloatColumn(row, timeMs);
      this.timeColumn = this.time.values;
    }
    if (this.orderColumn !== null) this.orderColumn[row] = order;
    else if (order === order) {
      this.order = this.startFloatColumn(row, order);
      this.orderColumn = this.order.values;
    }
    if (this.questionColumn !== null) this.questionColumn[row] = question;
    else if (question >= 0) {
      this.question = new Column(Int32Array, this.capacity);
      this.questionColumn = this.question.values;
      this.questionColumn.fill(-1, 0, row);
      this.questionColumn[row] = question;
    }
    this.n = row + 1;
  }

  /** A Float64 column whose earlier rows are NaN (no value) and whose row `row` is `value`. */
  private startFloatColumn(row: number, value: number): Column<Float64Array> {
    const column = new Column(Float64Array, this.capacity);
    column.values.fill(NaN, 0, row);
    column.values[row] = value;
    return column;
  }

  /**
   * Grow every column by an eighth (at least 64 K rows), in place. Growing a resizable buffer
   * copies nothing, so small steps cost little; and they keep the never-written tail small, which
   * matters because V8 zeroes (so touches) the cut-off part when `release()` shrinks a buffer.
   */
  private grow(): void {
    const columns = [this.ids, this.correct, this.time, this.order, this.question, ...this.classes];
    let capacity = this.capacity + Math.max(65_536, this.capacity >>> 3);
    for (const column of columns) if (column !== null) capacity = Math.min(capacity, column.maxRows);
    if (capacity <= this.capacity) throw new RangeError(`AttemptsTableBuilder: more than ${this.capacity} rows do not fit in memory reserved for a column`);
    for (const column of columns) column?.resize(capacity);
    // Grown class columns start empty (a resized buffer is zero-filled, and 0 is a real index).
    for (const column of this.classes) column.values.fill(-1, this.capacity, capacity);
    this.capacity = capacity;
  }

  /**
   * Sort the rows and return the table (see the class comment for the order). Concepts,
   * learners and questions left without rows (after minAttemptsPerSequence) are removed from
   * the dictionaries, which otherwise keep first-appearance order.
   */
  build(options: BuildOptions = {}): AttemptsTable {
    if (this.built) throw new Error('AttemptsTableBuilder: build() was already called');
    this.built = true;
    const minPerSequence = Math.max(1, options.minAttemptsPerSequence ?? 1);
    const n = this.n;
    const learnerCount = this.learners.ids.length;
    const conceptCount = this.concepts.ids.length;
    if (options.conceptOrder === 'sorted') this.sortConceptDictionary();

    // 1. Stable counting sort by concept (few buckets, so the scatter stays cache friendly),
    //    reading the columns in insertion order and carrying each row's learner along.
    const conceptStart = new Uint32Array(conceptCount + 1);
    let perm: Uint32Array = new Uint32Array(n);
    let learner: Uint32Array = new Uint32Array(n);
    const ids = this.idColumn;
    {
      for (let row = 0; row < n; row++) conceptStart[ids[2 * row + 1] + 1]++;
      for (let c = 0; c < conceptCount; c++) conceptStart[c + 1] += conceptStart[c];
      const next = conceptStart.slice(0, conceptCount);
      for (let row = 0; row < n; row++) {
        const p = next[ids[2 * row + 1]]++;
        perm[p] = row;
        learner[p] = ids[2 * row];
      }
      this.ids.release();
    }

    // 2. Gather the time and correct columns into concept order now, while perm is still
    //    increasing inside each concept: gatherByConcept reads the input one cache-sized block
    //    at a time instead of 200 (say) scattered passes over it. From here on every move of
    //    perm moves them too. Each input column is released as soon as it is gathered.
    let time: Float64Array | null = null;
    if (this.timeColumn !== null) {
      time = new Float64Array(n);
      gatherByConcept(perm, conceptStart, this.timeColumn, time);
      this.time!.release();
      this.timeColumn = null;
    }
    let correct = new Uint8Array(n);
    gatherByConcept(perm, conceptStart, this.correctColumn, correct);
    this.correct.release();

    // 3. Inside each concept, a stable counting sort by learner over only the learners present
    //    (skipped when the concept's rows are already grouped in learner order).
    sortSegmentsByLearner(perm, learner, time, correct, conceptStart, learnerCount);

    // 4. Sequence boundaries: a new sequence where the learner changes or a concept starts.
    //    (The concept column itself is filled last, into perm's memory, to keep the peak low.)
    const countSequences = (out: Uint32Array | null): number => {
      let sequences = 0;
      let c = 0; // the concept whose rows include k
      for (let k = 0; k < n; k++) {
        let conceptStarts = false;
        while (k >= conceptStart[c + 1]) {
          c++;
          conceptStarts = true;
        }
        if (k === 0 || conceptStarts || learner[k] !== learner[k - 1]) {
          if (out !== null) out[sequences] = k;
          sequences++;
        }
      }
      return sequences;
    };
    let sequences = countSequences(null);
    let sequenceStart = new Uint32Array(sequences + 1);
    countSequences(sequenceStart);
    sequenceStart[sequences] = n;
    // Concept of each sequence (needed to drop short ones and to build conceptSequenceStart).
    let sequenceConcept = new Uint32Array(sequences);
    {
      let c = 0;
      for (let s = 0; s < sequences; s++) {
        while (sequenceStart[s] >= conceptStart[c + 1]) c++;
        sequenceConcept[s] = c;
      }
    }

    // 5. Order inside each sequence by time, else order, else keep insertion order.
    const orderedBy: SequenceOrder = time !== null ? 'time' : this.orderColumn !== null ? 'order' : 'file';
    let sequencesSorted = 0;
    if (time !== null) sequencesSorted = sortSequencesByTime(perm, time, correct, sequenceStart, this.orderColumn);
    else if (this.orderColumn !== null) sequencesSorted = sortSequences(perm, correct, sequenceStart, this.orderColumn);
    this.order?.release();
    this.orderColumn = null;

    // 6. Drop short sequences.
    let rowsDropped = 0;
    if (minPerSequence > 1) {
      let write = 0;
      let kept = 0;
      for (let s = 0; s < sequences; s++) {
        const start = sequenceStart[s];
        const end = sequenceStart[s + 1];
        if (end - start < minPerSequence) {
          rowsDropped += end - start;
          continue;
        }
        sequenceConcept[kept] = sequenceConcept[s];
        sequenceStart[kept++] = write;
        for (let k = start; k < end; k++) {
          perm[write] = perm[k];
          learner[write] = learner[k];
          correct[write] = correct[k];
          if (time !== null) time[write] = time[k];
          write++;
        }
      }
      sequenceStart[kept] = write;
      sequences = kept;
      sequenceStart = sequenceStart.slice(0, kept + 1);
      sequenceConcept = sequenceConcept.slice(0, kept);
      perm = perm.slice(0, write);
      learner = learner.slice(0, write);
      correct = correct.slice(0, write);
      if (time !== null) time = time.slice(0, write);
    }
    const m = perm.length;

    // 7. Dictionaries without unused ids (only possible after dropping rows, or when a reader
    //    interned an id whose rows it then filtered out).
    const conceptIds = compactIds(this.concepts.ids, sequenceConcept);
    const learnerIds = compactIds(this.learners.ids, learner);

    // 8. Gather the question column in sorted order, dropping the input column.
    let question: Int32Array | null = null;
    let questionIds: string[] = [];
    if (this.questionColumn !== null) {
      question = new Int32Array(m);
      const input = this.questionColumn;
      for (let k = 0; k < m; k++) question[k] = input[perm[k]];
      this.question!.release();
      questionIds = compactIds(this.questions.ids, question);
    }
    this.questionColumn = null;
    const classColumns: ClassColumn[] = this.classes.map((column, slot) => {
      const values = new Int32Array(m);
      const input = column.values;
      for (let k = 0; k < m; k++) values[k] = input[perm[k]];
      column.release();
      return { name: this.classNames[slot], ids: compactIds(this.classDictionaries[slot].ids, values), values };
    });

    const inputRow = options.keepInputRow ? perm.slice() : undefined;

    // 9. First sequence of each concept, and the concept column, written over perm (no longer needed).
    const conceptSequenceStart = new Uint32Array(conceptIds.length + 1);
    for (let s = 0; s < sequences; s++) conceptSequenceStart[sequenceConcept[s] + 1]++;
    for (let c = 0; c < conceptIds.length; c++) conceptSequenceStart[c + 1] += conceptSequenceStart[c];
    const concept = perm;
    for (let s = 0; s < sequences; s++) concept.fill(sequenceConcept[s], sequenceStart[s], sequenceStart[s + 1]);

    this.stats = { rowsAdded: n, rowsDroppedShortSequences: rowsDropped, orderedBy, sequencesSorted };
    return {
      conceptIds,
      learnerIds,
      questionIds,
      length: m,
      concept,
      learner,
      correct,
      time,
      question,
      sequenceStart,
      conceptSequenceStart,
      ...(inputRow ? { inputRow } : {}),
      ...(classColumns.length > 0 ? { classColumns } : {}),
    };
  }

  /** Renumber concepts so that index order is id order (code units), rewriting the rows' concept indexes. */
  private sortConceptDictionary(): void {
    const ids = this.concepts.ids;
    const byId = ids.map((_, i) => i).sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));
    const newIndex = new Uint32Array(ids.length);
    byId.forEach((old, i) => (newIndex[old] = i));
    const column = this.idColumn;
    for (let row = 0; row < this.n; row++) column[2 * row + 1] = newIndex[column[2 * row + 1]];
    this.concepts.reorder(byId);
  }

  /**
   * Build a table from whole columns (tests, the simulator). Equivalent to one `add` per row in
   * array order, then `build(options)`.
   */
  static fromArrays(rows: AttemptRows, options: BuildOptions = {}): AttemptsTable {
    const n = rows.learner.length;
    if (rows.concept.length !== n || rows.correct.length !== n) {
      throw new RangeError('fromArrays: learner, concept and correct must have the same length');
    }
    const builder = new AttemptsTableBuilder();
    const classEntries = Object.entries(rows.classes ?? {});
    builder.declareClassColumns(classEntries.map(([name]) => name));
    for (let i = 0; i < n; i++) {
      const q = rows.question ? rows.question[i] : null;
      builder.add(
        rows.learner[i],
        rows.concept[i],
        rows.correct[i] as 0 | 1,
        rows.time ? rows.time[i] : NaN,
        rows.order ? rows.order[i] : NaN,
        q === undefined ? null : q,
      );
      classEntries.forEach(([, values], slot) => {
        const v = values[i];
        if (v !== null && v !== undefined && v !== '') builder.setClass(slot, builder.classIndex(slot, v));
      });
    }
    return builder.build(options);
  }
}

/**
 * Drop ids that no row uses, renumbering `column` in place (values < 0 = none are kept); the
 * remaining ids keep their relative order. Returns the (possibly same) id list.
 */
function compactIds(ids: string[], column: Uint32Array | Int32Array): string[] {
  const used = new Uint8Array(ids.length);
  let usedCount = 0;
  for (let k = 0; k < column.length; k++) {
    const v = column[k];
    if (v >= 0 && used[v] === 0) {
      used[v] = 1;
      usedCount++;
    }
  }
  if (usedCount === ids.length) return ids;
  const map = new Int32Array(ids.length);
  const out: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    map[i] = out.length;
    if (used[i]) out.push(ids[i]);
  }
  for (let k = 0; k < column.length; k++) if (column[k] >= 0) column[k] = map[column[k]];
  return out;
}

/** Rows of input per block in gatherByConcept (64 K 8-byte values: 512 KB, about an L2 cache). */
const GATHER_BLOCK = 1 << 16;

/**
 * out[k] = input[perm[k]] for every k, where perm is increasing inside each segment
 * [segmentStart[c], segmentStart[c + 1]) (a stable counting sort's output). A plain gather reads
 * the input once per segment, each read a cache miss when segments interleave; this one walks the
 * input block by block, advancing a cursor per segment, so each block is read from cache.
 */
function gatherByConcept<T extends Float64Array | Uint8Array>(perm: Uint32Array, segmentStart: Uint32Array, input: T, out: T): void {
  const n = perm.length;
  const segments = segmentStart.length - 1;
  // Each block visits every segment once: not worth it with many small segments.
  if (segments <= 1 || segments * Math.ceil(n / GATHER_BLOCK) > n) {
    for (let k = 0; k < n; k++) out[k] = input[perm[k]];
    return;
  }
  const cursor = segmentStart.slice(0, segments);
  for (let blockEnd = GATHER_BLOCK; ; blockEnd += GATHER_BLOCK) {
    for (let c = 0; c < segments; c++) {
      let k = cursor[c];
      const end = segmentStart[c + 1];
      while (k < end) {
        const row = perm[k];
        if (row >= blockEnd) break;
        out[k] = input[row];
        k++;
      }
      cursor[c] = k;
    }
    if (blockEnd >= n) return;
  }
}

/**
 * Stable sort of each segment [segmentStart[i], segmentStart[i + 1]) of `perm` by `learner`,
 * moving perm, learner, time (when not null) and correct. A segment already in learner order costs one pass; otherwise a counting
 * sort over the distinct learners it holds: O(rows + distinct log distinct) per segment, with
 * the scatter confined to the segment.
 */
function sortSegmentsByLearner(
  perm: Uint32Array,
  learner: Uint32Array,
  time: Float64Array | null,
  correct: Uint8Array,
  segmentStart: Uint32Array,
  learnerCount: number,
): void {
  let count: Uint32Array | null = null;
  let present: Uint32Array | null = null;
  let tmpPerm = new Uint32Array(0);
  let tmpTime = new Float64Array(0);
  let tmpCorrect = new Uint8Array(0);
  for (let i = 0; i + 1 < segmentStart.length; i++) {
    const a = segmentStart[i];
    const b = segmentStart[i + 1];
    let grouped = true;
    for (let k = a + 1; k < b; k++) {
      if (learner[k] < learner[k - 1]) {
        grouped = false;
        break;
      }
    }
    if (grouped) continue;
    if (count === null || present === null) {
      count = new Uint32Array(learnerCount);
      present = new Uint32Array(learnerCount);
    }
    if (tmpPerm.length < b - a) {
      tmpPerm = new Uint32Array(b - a);
      tmpCorrect = new Uint8Array(b - a);
      if (time !== null) tmpTime = new Float64Array(b - a);
    }
    let distinct = 0;
    for (let k = a; k < b; k++) if (count[learner[k]]++ === 0) present[distinct++] = learner[k];
    const learners = present.subarray(0, distinct).sort();
    let position = 0;
    for (let j = 0; j < distinct; j++) {
      const l = learners[j];
      const c = count[l];
      count[l] = position;
      position += c;
    }
    if (time !== null) {
      for (let k = a; k < b; k++) {
        const to = count[learner[k]]++;
        tmpPerm[to] = perm[k];
        tmpTime[to] = time[k];
        tmpCorrect[to] = correct[k];
      }
      time.set(tmpTime.subarray(0, b - a), a);
    } else {
      for (let k = a; k < b; k++) {
        const to = count[learner[k]]++;
        tmpPerm[to] = perm[k];
        tmpCorrect[to] = correct[k];
      }
    }
    perm.set(tmpPerm.subarray(0, b - a), a);
    correct.set(tmpCorrect.subarray(0, b - a), a);
    // Learners in sorted order, each repeated as often as it occurs.
    let k = a;
    for (let j = 0; j < distinct; j++) {
      const l = learners[j];
      const end = a + count[l]; // count[l] is now the end of l's run, relative to a
      learner.fill(l, k, end);
      k = end;
      count[l] = 0;
    }
  }
}

/**
 * Sort each sequence of `perm` and the parallel `time` by time (NaN last), ties by `order`
 * (indexed by input row, NaN last) when given, then by row index = insertion order. Sequences
 * already in order cost one sequential pass. Returns how many sequences needed sorting.
 */
function sortSequencesByTime(perm: Uint32Array, time: Float64Array, correct: Uint8Array, sequenceStart: Uint32Array, order: Float64Array | null): number {
  let sorted = 0;
  let local = new Uint32Array(64);
  let rows = new Uint32Array(64);
  let keys = new Float64Array(64);
  let ties = new Float64Array(64);
  let flags = new Uint8Array(64);
  const tie = (row: number) => {
    const v = order === null ? 0 : order[row];
    return v === v ? v : Infinity;
  };
  const sequences = sequenceStart.length - 1;
  for (let s = 0; s < sequences; s++) {
    const start = sequenceStart[s];
    const end = sequenceStart[s + 1];
    let ordered = true;
    let previous = time[start] === time[start] ? time[start] : Infinity;
    let previousTie = order === null ? 0 : tie(perm[start]);
    for (let k = start + 1; k < end; k++) {
      const v = time[k] === time[k] ? time[k] : Infinity;
      if (v < previous) {
        ordered = false;
        break;
      }
      if (order !== null) {
        const w = tie(perm[k]);
        if (v === previous && w < previousTie) {
          ordered = false;
          break;
        }
        previousTie = w;
      }
      previous = v;
    }
    if (ordered) continue;
    sorted++;
    const len = end - start;
    if (len > local.length) {
      local = new Uint32Array(len * 2);
      rows = new Uint32Array(len * 2);
      keys = new Float64Array(len * 2);
      ties = new Float64Array(len * 2);
      flags = new Uint8Array(len * 2);
    }
    for (let i = 0; i < len; i++) {
      local[i] = i;
      rows[i] = perm[start + i];
      flags[i] = correct[start + i];
      const v = time[start + i];
      keys[i] = v === v ? v : Infinity;
      ties[i] = tie(rows[i]);
    }
    // Infinity - Infinity is NaN (falsy), so two keyless rows fall through to the next key.
    local.subarray(0, len).sort((a, b) => keys[a] - keys[b] || ties[a] - ties[b] || a - b);
    for (let i = 0; i < len; i++) {
      perm[start + i] = rows[local[i]];
      correct[start + i] = flags[local[i]];
      const v = keys[local[i]];
      time[start + i] = v === Infinity ? NaN : v;
    }
  }
  return sorted;
}

/**
 * Sort each sequence of `perm` (row indexes) by its key (NaN after every real key; readers never
 * produce infinities), ties by row index = insertion order. Sequences already in order, the
 * common case, cost one pass. Returns how many sequences needed sorting.
 */
function sortSequences(perm: Uint32Array, correct: Uint8Array, sequenceStart: Uint32Array, keyColumn: Float64Array): number {
  let sorted = 0;
  let keys = new Float64Array(64);
  let local = new Uint32Array(64);
  let rows = new Uint32Array(64);
  let flags = new Uint8Array(64);
  const sequences = sequenceStart.length - 1;
  for (let s = 0; s < sequences; s++) {
    const start = sequenceStart[s];
    const len = sequenceStart[s + 1] - start;
    if (len < 2) continue;
    if (len > keys.length) {
      keys = new Float64Array(len * 2);
      local = new Uint32Array(len * 2);
      rows = new Uint32Array(len * 2);
      flags = new Uint8Array(len * 2);
    }
    let ordered = true;
    for (let i = 0; i < len; i++) {
      const row = perm[start + i];
      const v = keyColumn[row];
      keys[i] = v === v ? v : Infinity;
      if (i > 0 && keys[i] < keys[i - 1]) ordered = false;
    }
    if (ordered) continue;
    sorted++;
    for (let i = 0; i < len; i++) {
      local[i] = i;
      rows[i] = perm[start + i];
      flags[i] = correct[start + i];
    }
    // Positions i < j hold rows in insertion order, so ties broken by position keep it.
    local.subarray(0, len).sort((a, b) => keys[a] - keys[b] || a - b);
    for (let i = 0; i < len; i++) {
      perm[start + i] = rows[local[i]];
      correct[start + i] = flags[local[i]];
    }
  }
  return sorted;
}
