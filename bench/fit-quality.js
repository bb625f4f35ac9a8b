// Fitting-method comparison on the builder data: `node bench/fit-quality.js [name ...]` after
// `npm run build`. Fits fixtures/builder/train.csv.gz with each candidate method and scores
// fixtures/builder/test.csv.gz (one-step-ahead predictions, as pyBKT). docs/algorithms.md keeps the table.
const dist = (p) => new URL(`../dist/src/${p}`, import.meta.url).href;
const { readAttempts } = await import(dist('data/read-attempts.js'));
const { fitConcepts } = await import(dist('model/fit-concepts.js'));
const { predictTable, scoredRows } = await import(dist('model/predict.js'));
const { predictionMetrics } = await import(dist('model/metrics.js'));
const { DEFAULT_BOUNDS, NO_BOUNDS } = await import(dist('model/params.js'));
const { updateMastery } = await import(dist('model/online-update.js'));

const train = (await readAttempts({ input: 'fixtures/builder/train.csv.gz' })).table;
const test = (await readAttempts({ input: 'fixtures/builder/test.csv.gz' })).table;

const prior = (strength, means = { p_L0: 0.5, p_T: 0.2, p_S: 0.1, p_G: 0.2 }) =>
  Object.fromEntries(Object.entries(means).map(([k, mean]) => [k, { mean, strength }]));

const candidates = {
  'default (map)': {},
  box: { method: 'box' },
  none: { method: 'mle' },
  'none+plausible-select': { method: 'mle', bounds: NO_BOUNDS, restartSelection: 'plausible' },
  'margin0.1': { method: 'mle', bounds: NO_BOUNDS, plausibilityMargin: 0.1 },
  'margin0.1+select': { method: 'mle', bounds: NO_BOUNDS, plausibilityMargin: 0.1, restartSelection: 'plausible' },
  ...Object.fromEntries([1, 2, 5, 10, 20, 50].map((n) => [`prior${n}`, { method: 'mle', bounds: NO_BOUNDS, prior: prior(n) }])),
  ...Object.fromEntries([2, 5, 10, 20].map((n) => [`prior${n}+select`, { method: 'mle', bounds: NO_BOUNDS, prior: prior(n), restartSelection: 'plausible' }])),
  ...Object.fromEntries([2, 5, 10, 20].map((n) => [`prior${n}+margin0.1+select`, { method: 'mle', bounds: NO_BOUNDS, prior: prior(n), plausibilityMargin: 0.1, restartSelection: 'plausible' }])),
  ...Object.fromEntries([2, 5, 10].map((n) => [`prior${n}+cap`, { method: 'mle', bounds: NO_BOUNDS, prior: prior(n), masteryCap: 0.945 }])),
  ...Object.fromEntries([2, 5, 10].map((n) => [`prior${n}+cap+margin0.1`, { method: 'mle', bounds: NO_BOUNDS, prior: prior(n), masteryCap: 0.945, plausibilityMargin: 0.1 }])),
  'cap': { method: 'mle', bounds: NO_BOUNDS, masteryCap: 0.945 },
  'prior5+cap0.94': { method: 'mle', bounds: NO_BOUNDS, prior: prior(5), masteryCap: 0.94 },
  'prior5+cap+select': { method: 'mle', bounds: NO_BOUNDS, prior: prior(5), masteryCap: 0.945, restartSelection: 'plausible' },
  'prior5,L0x20+cap': { method: 'mle', bounds: NO_BOUNDS, prior: { ...prior(5), p_L0: { mean: 0.5, strength: 20 } }, masteryCap: 0.945 },
  'prior5,T0.1+cap': { method: 'mle', bounds: NO_BOUNDS, prior: prior(5, { p_L0: 0.5, p_T: 0.1, p_S: 0.1, p_G: 0.2 }), masteryCap: 0.945 },
  'prior5,G0.25+cap': { method: 'mle', bounds: NO_BOUNDS, prior: prior(5, { p_L0: 0.5, p_T: 0.2, p_S: 0.1, p_G: 0.25 }), masteryCap: 0.945 },
  ...Object.fromEntries([8, 10, 15].map((n) => [`prior5,L0x${n}+cap`, { method: 'mle', bounds: NO_BOUNDS, prior: { ...prior(5), p_L0: { mean: 0.5, strength: n } }, masteryCap: 0.945 }])),
  'prior3+cap': { method: 'mle', bounds: NO_BOUNDS, prior: prior(3), masteryCap: 0.945 },
  'prior7+cap': { method: 'mle', bounds: NO_BOUNDS, prior: prior(7), masteryCap: 0.945 },
};

const wanted = process.argv.slice(2);
const header = ['method', 'auc', 'rmse', 'train_ll', 'fitted', 'invalid', 'degenerate', 'at_bound', 'instant', 'implausible', 'seconds'];
console.log(header.join('\t'));
for (const [name, options] of Object.entries(candidates)) {
  if (wanted.length && !wanted.includes(name)) continue;
  const report = await fitConcepts(train, { ...options, workers: Number(process.env.WORKERS ?? 1) });
  const byId = new Map(report.concepts.filter((c) => c.params).map((c) => [c.concept_id, c.params]));
  const { pCorrect } = predictTable(test, test.conceptIds.map((id) => byId.get(id)));
  const { predicted, label } = scoredRows(pCorrect, test.correct);
  const m = predictionMetrics(predicted, label);
  const fitted = report.concepts.filter((c) => c.params);
  const instant = fitted.filter((c) => updateMastery(c.params.p_L0, true, c.params) >= 0.95).length;
  const implausible = fitted.filter((c) => c.params.p_G > 0.5 || c.params.p_S > 0.5).length;
  const atBound = fitted.filter((c) => c.warnings.length > 0).length;
  console.log(
    [name, m.auc.toFixed(5), m.rmse.toFixed(5), report.summary.total_log_likelihood.toFixed(1), fitted.length, report.summary.invalid, report.summary.degenerate, atBound, instant, implausible, report.summary.seconds.toFixed(2)].join('\t'),
  );
}
