import type { AttemptsTable } from '../data/attempts-table.js';
import type { BktParams } from './params.js';
import { seededRandom } from './random.js';

/** What to simulate: every concept shares the learner count and sequence length. */
export interface SimulationOptions {
  /** One parameter set per concept; concept ids are `concept-1`, `concept-2`, ... unless named. */
  params: BktParams[];
  conceptIds?: string[];
  /** Learners per concept. */
  learners: number;
  /** Attempts per learner and concept (every sequence has this length). */
  attemptsPerLearner: number;
  /** Seed of the generator. Default 42. */
  seed?: number;
}

/**
 * Draw attempts from the BKT generative model (Corbett & Anderson 1994): known at the first
 * attempt with probability L0; each answer correct with 1 - S when known, G when unknown; then
 * unknown -> known with T and known -> unknown with F. Learner ids are `learner-1`, ...
 * Rows come out already in the table's (concept, learner, order) layout, so no sort is needed;
 * one byte of answer plus two index columns per attempt.
 */
export function simulateAttempts(options: SimulationOptions): AttemptsTable {
  const { params, learners, attemptsPerLearner } = options;
  const seed = options.seed ?? 42;
  const conceptIds = options.conceptIds ?? params.map((_, i) => `concept-${i + 1}`);
  const learnerIds = Array.from({ length: learners }, (_, i) => `learner-${i + 1}`);
  const length = params.length * learners * attemptsPerLearner;
  const concept = new Uint32Array(length);
  const learner = new Uint32Array(length);
  const correct = new Uint8Array(length);
  const sequenceStart = new Uint32Array(params.length * learners + 1);
  const conceptSequenceStart = new Uint32Array(params.length + 1);
  let row = 0;
  for (let c = 0; c < params.length; c++) {
    const p = params[c];
    const random = seededRandom(seed, 'simulate', conceptIds[c]);
    conceptSequenceStart[c] = c * learners;
    for (let u = 0; u < learners; u++) {
      sequenceStart[c * learners + u] = row;
      let known = random() < p.p_L0;
      for (let k = 0; k < attemptsPerLearner; k++) {
        concept[row] = c;
        learner[row] = u;
        correct[row] = (known ? random() >= p.p_S : random() < p.p_G) ? 1 : 0;
        known = known ? random() >= p.p_F : random() < p.p_T;
        row++;
      }
    }
  }
  sequenceStart[params.length * learners] = row;
  conceptSequenceStart[params.length] = params.length * learners;
  return {
    conceptIds,
    learnerIds,
    questionIds: [],
    length,
    concept,
    learner,
    correct,
    time: null,
    question: null,
    sequenceStart,
    conceptSequenceStart,
  };
}
