// Variant parameter recovery, map against mle, on fresh synthetic datasets: `node bench/variant-recovery.js [DATASETS]`
// after `npm run build` (default 4 per family; about 10 s each on one core).
// Each dataset follows the generator of the synthetic reference data (fixtures/pybkt-variants/README.md, "Data"):
// 4 skills with 6-10 templates, 2,400 training learners x 8-25 attempts per skill, forget 0; family gs draws
// per-template guess U[0.05,0.35] and slip U[0.02,0.2], family learn per-template learn U[0.02,0.3]; the rest
// per skill (prior U[0.1,0.5], learn U[0.05,0.25], guess U[0.1,0.3], slip U[0.05,0.15]). Figures, not assertions.
const dist = (p) => new URL(`../dist/src/${p}`, import.meta.url).href;
const { AttemptsTableBuilder } = await import(dist('data/attempts-table-builder.js'));
const { fitConcepts } = await import(dist('model/fit-concepts.js'));
const { NO_BOUNDS } = await import(dist('model/params.js'));
const { seededRandom } = await import(dist('model/random.js'));

const DATASETS = Number(process.argv[2] ?? 4);
const uniform = (random, lo, hi) => lo + (hi - lo) * random();

/** One dataset of `family` and its truth per skill: { template: { p_G, p_S, p_T } }. */
function generate(family, seed) {
  const random = seededRandom(seed, 'variant-recovery', family);
  const skills = [];
  for (let k = 0; k < 4; k++) {
    const count = 6 + Math.floor(random() * 5);
    const skill = { name: `skill_${k + 1}`, prior: uniform(random, 0.1, 0.5), templates: [] };
    const learn = uniform(random, 0.05, 0.25);
    const guess = uniform(random, 0.1, 0.3);
    const slip = uniform(random, 0.05, 0.15);
    for (let j = 0; j < count; j++) {
      skill.templates.push({
        id: String(100 * (k + 1) + j + 1),
        p_G: family === 'gs' ? uniform(random, 0.05, 0.35) : guess,
        p_S: family === 'gs' ? uniform(random, 0.02, 0.2) : slip,
        p_T: family === 'learn' ? uniform(random, 0.02, 0.3) : learn,
      });
    }
    skills.push(skill);
  }
  const rows = { learner: [], concept: [], correct: [], classes: { template_id: [] } };
  for (let u = 0; u < 2400; u++) {
    for (const skill of skills) {
      const n = 8 + Math.floor(random() * 18);
      let known = random() < skill.prior;
      for (let t = 0; t < n; t++) {
        const template = skill.templates[Math.floor(random() * skill.templates.length)];
        rows.learner.push(`u${u}`);
        rows.concept.push(skill.name);
        rows.classes.template_id.push(template.id);
        rows.correct.push((known ? random() >= template.p_S : random() < template.p_G) ? 1 : 0);
        if (!known) known = random() < template.p_T;
      }
    }
  }
  return { table: AttemptsTableBuilder.fromArrays(rows), skills };
}

/** Mean absolute error of the fitted per-template `field` against the truth. */
function recovery(report, skills, field) {
  let sum = 0;
  let n = 0;
  for (const skill of skills) {
    const model = report.concepts.find((c) => c.concept_id === skill.name).model;
    const entries = field === 'p_T' ? model.learn : model.gs;
    for (const template of skill.templates) {
      sum += Math.abs(entries.find((e) => e.id === template.id)[field] - template[field]);
      n++;
    }
  }
  return sum / n;
}

const CASES = [
  ['gs', 'multigs', { multigs: 'template_id' }, ['p_G', 'p_S']],
  ['gs', 'multigs + multilearn', { multigs: 'template_id', multilearn: 'template_id' }, ['p_G', 'p_S', 'p_T']],
  ['learn', 'multilearn', { multilearn: 'template_id' }, ['p_T']],
  ['learn', 'multigs + multilearn', { multigs: 'template_id', multilearn: 'template_id' }, ['p_G', 'p_S', 'p_T']],
];
const totals = { mle: 0, map: 0 };
let figures = 0;
let mapWorse = 0;
let llCost = 0;
console.log(`variant recovery, ${DATASETS} dataset(s) per family: mean absolute error per template, mle / map, map's training log-likelihood cost`);
for (let d = 0; d < DATASETS; d++) {
  const data = { gs: generate('gs', 1000 + d), learn: generate('learn', 2000 + d) };
  for (const [family, name, variants, fields] of CASES) {
    const { table, skills } = data[family];
    const fit = (method) => fitConcepts(table, { method, variants, bounds: NO_BOUNDS, minAttempts: 1, minUsers: 1, workers: 1 });
    const [mle, map] = [await fit('mle'), await fit('map')];
    const cells = fields.map((field) => {
      const [a, b] = [recovery(mle, skills, field), recovery(map, skills, field)];
      totals.mle += a;
      totals.map += b;
      figures++;
      if (b > a) mapWorse++;
      return `${field} ${a.toFixed(5)} / ${b.toFixed(5)}`;
    });
    const cost = mle.summary.total_log_likelihood - map.summary.total_log_likelihood;
    llCost = Math.max(llCost, cost);
    console.log(`${family} #${d} ${name.padEnd(22)} ${cells.join('   ')}   LL cost ${cost.toFixed(3)}`);
  }
}
console.log(`mean over ${figures} figures: mle ${(totals.mle / figures).toFixed(6)}, map ${(totals.map / figures).toFixed(6)}; map worse on ${mapWorse}; largest LL cost ${llCost.toFixed(3)} nats`);
