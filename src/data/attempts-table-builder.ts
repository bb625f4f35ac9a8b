import type { AttemptsTable } from './attempts-table.js';

/**
 * Rows are stored in fixed-size chunks rather than one array that doubles: no growth copies, and
 * at most one partly filled chunk per column is wasted. `build()` gathers each column into an
 * exact-size array in sorted order, one column at a time, and drops its chunks right after, so the
 * peak stays near (row columns) + 8 bytes per row for the permutation.
 */
const CHUNK_BITS = 16;
const CHUNK_SIZE = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_SIZE - 1;

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

export interface BuildOptions {
  /** Drop (concept, learner) sequences with fewer rows than this (`--min-attempts-per-user`). Default 1 (keep all). */
  minAttemptsPerSequence?: number;
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
}

class Dictionary {
  readonly ids: string[] = [];
  private readonly index = new Map<string, number>();

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
 * Accumulates attempts row by row into chunked typed columns with dictionary-encoded ids, then
 * sorts them once into an AttemptsTable.
 *
 * Ordering (see AttemptsTable): rows are sorted by concept index, then learner index (both
 * dictionaries in order of first appearance), then inside each sequence by time when any row had
 * a time, else by order when any row had one, else by insertion (file) order. Ties, and rows
 * without a key (NaN, placed after keyed rows), keep insertion order. Sorting is a stable LSD
 * counting sort by learner then concept (O(n + learners + concepts)), followed by a comparison
 * sort only of sequences that are not already in key order (O(n) for ordered input).
 *
 * `build()` consumes the builder; call it once.
 */
export class AttemptsTableBuilder {
  private readonly learners = new Dictionary();
  private readonly concepts = new Dictionary();
  private readonly questions = new Dictionary();

  private learnerChunks: Uint32Array[] = [];
  private conceptChunks: Uint32Array[] = [];
  private correctChunks: Uint8Array[] = [];
  /** Null chunks hold only NaN (allocated on the first real value, so an absent column costs nothing). */
  private timeChunks: (Float64Array | null)[] = [];
  private orderChunks: (Float64Array | null)[] = [];
  private questionChunks: (Int32Array | null)[] = [];

  private n = 0;
  private hasTime = false;
  private hasOrder = false;
  private hasQuestion = false;
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
    const chunk = row >>> CHUNK_BITS;
    const offset = row & CHUNK_MASK;
    if (offset === 0) {
      this.learnerChunks.push(new Uint32Array(CHUNK_SIZE));
      this.conceptChunks.push(new Uint32Array(CHUNK_SIZE));
      this.correctChunks.push(new Uint8Array(CHUNK_SIZE));
      this.timeChunks.push(null);
      this.orderChunks.push(null);
      this.questionChunks.push(null);
    }
    this.learnerChunks[chunk][offset] = learner;
    this.conceptChunks[chunk][offset] = concept;
    this.correctChunks[chunk][offset] = correct;
    if (timeMs === timeMs) {
      this.hasTime = true;
      let c = this.timeChunks[chunk];
      if (c === null) c = this.timeChunks[chunk] = new Float64Array(CHUNK_SIZE).fill(NaN);
      c[offset] = timeMs;
    }
    if (order === order) {
      this.hasOrder = true;
      let c = this.orderChunks[chunk];
      if (c === null) c = this.orderChunks[chunk] = new Float64Array(CHUNK_SIZE).fill(NaN);
      c[offset] = order;
    }
    if (question >= 0) {
      this.hasQuestion = true;
      let c = this.questionChunks[chunk];
      if (c === null) c = this.questionChunks[chunk] = new Int32Array(CHUNK_SIZE).fill(-1);
      c[offset] = question;
    }
    this.n = row + 1;
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
    const learnerChunks = this.learnerChunks;
    const conceptChunks = this.conceptChunks;
    const learnerCount = this.learners.ids.length;
    const conceptCount = this.concepts.ids.length;

    // 1. Stable counting sort by learner (rows visited in insertion order).
    const byLearner = new Uint32Array(n);
    {
      const next = new Uint32Array(learnerCount + 1);
      for (let row = 0; row < n; row++) next[learnerChunks[row >>> CHUNK_BITS][row & CHUNK_MASK] + 1]++;
      for (let l = 0; l < learnerCount; l++) next[l + 1] += next[l];
      for (let row = 0; row < n; row++) byLearner[next[learnerChunks[row >>> CHUNK_BITS][row & CHUNK_MASK]]++] = row;
    }
    // 2. Stable counting sort of that by concept: now ordered by (concept, learner, insertion).
    let perm: Uint32Array = new Uint32Array(n);
    {
      const next = new Uint32Array(conceptCount + 1);
      for (let row = 0; row < n; row++) next[conceptChunks[row >>> CHUNK_BITS][row & CHUNK_MASK] + 1]++;
      for (let c = 0; c < conceptCount; c++) next[c + 1] += next[c];
      for (let k = 0; k < n; k++) {
        const row = byLearner[k];
        perm[next[conceptChunks[row >>> CHUNK_BITS][row & CHUNK_MASK]]++] = row;
      }
    }

    // 3. Sequence boundaries.
    const learnerOf = (row: number) => learnerChunks[row >>> CHUNK_BITS][row & CHUNK_MASK];
    const conceptOf = (row: number) => conceptChunks[row >>> CHUNK_BITS][row & CHUNK_MASK];
    let sequences = 0;
    for (let k = 0; k < n; k++) {
      if (k === 0 || learnerOf(perm[k]) !== learnerOf(perm[k - 1]) || conceptOf(perm[k]) !== conceptOf(perm[k - 1])) sequences++;
    }
    let sequenceStart = new Uint32Array(sequences + 1);
    {
      let s = 0;
      for (let k = 0; k < n; k++) {
        if (k === 0 || learnerOf(perm[k]) !== learnerOf(perm[k - 1]) || conceptOf(perm[k]) !== conceptOf(perm[k - 1])) sequenceStart[s++] = k;
      }
      sequenceStart[sequences] = n;
    }

    // 4. Order inside each sequence by time, else order, else keep insertion order.
    const orderedBy: SequenceOrder = this.hasTime ? 'time' : this.hasOrder ? 'order' : 'file';
    let sequencesSorted = 0;
    if (orderedBy !== 'file') {
      const keyChunks = orderedBy === 'time' ? this.timeChunks : this.orderChunks;
      // NaN (no key) sorts after every real key; Infinity never occurs (readers reject it).
      const keyOf = (row: number): number => {
        const c = keyChunks[row >>> CHUNK_BITS];
        const v = c === null ? NaN : c[row & CHUNK_MASK];
        return v === v ? v : Infinity;
      };
      const compare = (a: number, b: number): number => keyOf(a) - keyOf(b) || a - b;
      for (let s = 0; s < sequences; s++) {
        const start = sequenceStart[s];
        const end = sequenceStart[s + 1];
        let ordered = true;
        for (let k = start + 1; k < end; k++) {
          if (keyOf(perm[k]) < keyOf(perm[k - 1])) {
            ordered = false;
            break;
          }
        }
        if (!ordered) {
          perm.subarray(start, end).sort(compare);
          sequencesSorted++;
        }
      }
    }
    this.orderChunks = [];

    // 5. Drop short sequences.
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
        sequenceStart[kept++] = write;
        for (let k = start; k < end; k++) perm[write++] = perm[k];
      }
      sequenceStart[kept] = write;
      sequences = kept;
      sequenceStart = sequenceStart.slice(0, kept + 1);
      perm = perm.subarray(0, write);
    }
    const m = perm.length;

    // 6. Dictionaries without unused ids (only possible after dropping rows).
    const conceptMap = this.usedRemap(conceptChunks, conceptCount, perm);
    const learnerMap = this.usedRemap(learnerChunks, learnerCount, perm);
    const conceptIds = conceptMap ? keepMapped(this.concepts.ids, conceptMap) : this.concepts.ids;
    const learnerIds = learnerMap ? keepMapped(this.learners.ids, learnerMap) : this.learners.ids;

    // 7. Gather each column in sorted order, then drop its chunks.
    const concept = new Uint32Array(m);
    for (let k = 0; k < m; k++) {
      const c = conceptOf(perm[k]);
      concept[k] = conceptMap ? conceptMap[c] : c;
    }
    const learner = new Uint32Array(m);
    for (let k = 0; k < m; k++) {
      const l = learnerOf(perm[k]);
      learner[k] = learnerMap ? learnerMap[l] : l;
    }
    this.conceptChunks = [];
    this.learnerChunks = [];
    const correct = new Uint8Array(m);
    {
      const chunks = this.correctChunks;
      for (let k = 0; k < m; k++) correct[k] = chunks[perm[k] >>> CHUNK_BITS][perm[k] & CHUNK_MASK];
      this.correctChunks = [];
    }
    let time: Float64Array | null = null;
    if (this.hasTime) {
      time = new Float64Array(m);
      const chunks = this.timeChunks;
      for (let k = 0; k < m; k++) {
        const c = chunks[perm[k] >>> CHUNK_BITS];
        time[k] = c === null ? NaN : c[perm[k] & CHUNK_MASK];
      }
    }
    this.timeChunks = [];
    let question: Int32Array | null = null;
    let questionIds: string[] = [];
    if (this.hasQuestion) {
      question = new Int32Array(m);
      const chunks = this.questionChunks;
      for (let k = 0; k < m; k++) {
        const c = chunks[perm[k] >>> CHUNK_BITS];
        question[k] = c === null ? -1 : c[perm[k] & CHUNK_MASK];
      }
      // Remap questions only when some are unused.
      const used = new Uint8Array(this.questions.ids.length);
      let usedCount = 0;
      for (let k = 0; k < m; k++) {
        const q = question[k];
        if (q >= 0 && used[q] === 0) {
          used[q] = 1;
          usedCount++;
        }
      }
      if (usedCount === this.questions.ids.length) {
        questionIds = this.questions.ids;
      } else {
        const map = new Int32Array(used.length).fill(-1);
        for (let q = 0; q < used.length; q++) {
          if (used[q]) {
            map[q] = questionIds.length;
            questionIds.push(this.questions.ids[q]);
          }
        }
        for (let k = 0; k < m; k++) if (question[k] >= 0) question[k] = map[question[k]];
      }
    }
    this.questionChunks = [];

    // 8. First sequence of each concept.
    const conceptSequenceStart = new Uint32Array(conceptIds.length + 1);
    for (let s = 0; s < sequences; s++) conceptSequenceStart[concept[sequenceStart[s]] + 1]++;
    for (let c = 0; c < conceptIds.length; c++) conceptSequenceStart[c + 1] += conceptSequenceStart[c];

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
    };
  }

  /** Old index -> new index for ids still used by the rows in `perm`, or null when all are used. */
  private usedRemap(chunks: Uint32Array[], count: number, perm: Uint32Array): Int32Array | null {
    const used = new Uint8Array(count);
    let usedCount = 0;
    for (let k = 0; k < perm.length; k++) {
      const v = chunks[perm[k] >>> CHUNK_BITS][perm[k] & CHUNK_MASK];
      if (used[v] === 0) {
        used[v] = 1;
        usedCount++;
      }
    }
    if (usedCount === count) return null;
    const map = new Int32Array(count).fill(-1);
    let next = 0;
    for (let i = 0; i < count; i++) if (used[i]) map[i] = next++;
    return map;
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
    }
    return builder.build(options);
  }
}

function keepMapped(ids: string[], map: Int32Array): string[] {
  const out: string[] = [];
  for (let i = 0; i < ids.length; i++) if (map[i] >= 0) out.push(ids[i]);
  return out;
}
