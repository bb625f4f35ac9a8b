import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';
import { probabilityFlag } from '../src/cli/flags.js';

export default class Simulate extends BktCommand {
  static override summary = 'Write attempts drawn from the BKT model with known parameters (CSV).';

  static override description = `Draws learners' answers from the BKT generative model (seeded), as a CSV with user_id, concept_id, correct and order_id that "bkt fit" reads back: for checking that fitting recovers known parameters, and for benchmarks.`;

  static override usage = ['simulate [--out FILE] [FLAGS]'];

  static override examples = [
    '<%= config.bin %> simulate --learners 1000 --attempts 20 --out sim.csv',
    '<%= config.bin %> simulate --concepts 5 --L0 0.3 --T 0.1 --S 0.1 --G 0.2 --out - | bkt fit --input -',
  ];

  static override flags = {
    concepts: Flags.integer({ summary: 'Number of concepts (all with the same parameters).', default: 1, min: 1 }),
    learners: Flags.integer({ summary: 'Learners per concept.', default: 100, min: 1 }),
    attempts: Flags.integer({ summary: 'Attempts per learner and concept.', default: 20, min: 1 }),
    L0: probabilityFlag({ summary: 'Prior mastery p_L0.', default: 0.3 }),
    T: probabilityFlag({ summary: 'Learn p_T.', default: 0.1 }),
    S: probabilityFlag({ summary: 'Slip p_S.', default: 0.1 }),
    G: probabilityFlag({ summary: 'Guess p_G.', default: 0.2 }),
    F: probabilityFlag({ summary: 'Forget p_F.', default: 0 }),
    seed: Flags.integer({ summary: 'Seed of the generator.', default: 42, min: 0 }),
    out: Flags.string({ char: 'o', summary: 'CSV file to write, or - for stdout.', default: '-' }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Simulate);
    const { simulateAttempts } = await import('../src/model/simulate.js');
    const { writeAttemptsCsv } = await import('../src/model/simulate-csv.js');
    const params = { p_L0: flags.L0, p_T: flags.T, p_S: flags.S, p_G: flags.G, p_F: flags.F };
    const table = simulateAttempts({ params: Array.from({ length: flags.concepts }, () => params), learners: flags.learners, attemptsPerLearner: flags.attempts, seed: flags.seed });
    if (flags.out === '-') {
      await writeAttemptsCsv(table, process.stdout, { end: false });
      return { attempts: table.length, out: '-', params };
    }
    const { createWriteStream } = await import('node:fs');
    await writeAttemptsCsv(table, createWriteStream(flags.out));
    if (!this.jsonEnabled()) this.note(`${table.length} attempts written to ${flags.out}`);
    return { attempts: table.length, out: flags.out, params };
  }
}
