import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AttemptsTableBuilder } from '../../src/data/attempts-table-builder.js';
import { simulateAttempts } from '../../src/model/simulate.js';
import { evaluateParams } from '../../src/quality/evaluate.js';
import { crossValidate } from '../../src/quality/evaluate.js';
import {
  buildReportData,
  calibrationBins,
  learningCurve,
  overallLearningCurve,
  renderReportHtml,
  signedForPeople,
  unitHistogram,
} from '../../src/quality/report-html.js';
import { validateParams } from '../../src/quality/validate.js';
import { CHROMIUM, screenshot } from '../support/chromium.js';
import { countColour, readPng } from '../support/png.js';

describe('learningCurve', () => {
  // Concept a: u1 answers 1, 0, 1; u2 answers 0, 1; u3 answers 1. Rows in table order:
  // u1's three (rows 0-2), u2's two (rows 3-4), u3's one (row 5).
  const table = AttemptsTableBuilder.fromArrays({
    learner: ['u1', 'u2', 'u1', 'u3', 'u2', 'u1'],
    concept: ['a', 'a', 'a', 'a', 'a', 'a'],
    correct: [1, 0, 0, 1, 1, 1],
  });
  const predictions = Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);

  it('averages the k-th attempt of every learner, by hand', () => {
    expect(Array.from(table.correct)).toEqual([1, 0, 1, 0, 1, 1]);
    const curve = learningCurve(table, predictions, 0, 1);
    expect(curve.points).toHaveLength(3);
    // Opportunity 1: rows 0, 3, 5 -> answers 1, 0, 1; predictions 0.1, 0.4, 0.6.
    expect(curve.points[0].opportunity).toBe(1);
    expect(curve.points[0].n_learners).toBe(3);
    expect(curve.points[0].observed).toBeCloseTo(2 / 3, 12);
    expect(curve.points[0].predicted).toBeCloseTo((0.1 + 0.4 + 0.6) / 3, 12);
    // Opportunity 2: rows 1, 4 -> answers 0, 1; predictions 0.2, 0.5.
    expect(curve.points[1]).toMatchObject({ opportunity: 2, n_learners: 2 });
    expect(curve.points[1].observed).toBeCloseTo(0.5, 12);
    expect(curve.points[1].predicted).toBeCloseTo(0.35, 12);
    // Opportunity 3: row 2 only -> answer 1, prediction 0.3.
    expect(curve.points[2]).toMatchObject({ opportunity: 3, n_learners: 1, observed: 1 });
    expect(curve.points[2].predicted).toBeCloseTo(0.3, 12);
    expect(curve.truncated).toBe(false);
  });

  it('stops before the first opportunity with fewer than minLearners learners', () => {
    const curve = learningCurve(table, predictions, 0, 2);
    expect(curve.points.map((p) => p.opportunity)).toEqual([1, 2]);
    expect(curve).toMatchObject({ truncated: true, max_opportunity: 3, min_learners: 2 });
    expect(learningCurve(table, predictions, 0, 4).points).toEqual([]);
  });
});

describe('overallLearningCurve', () => {
  // Concept a: u1 answers 1, 0; u2 answers 1. Concept b: u1 answers 0, 1, 1. Concept c has no
  // parameters (NaN predictions) and stays out.
  const table = AttemptsTableBuilder.fromArrays({
    learner: ['u1', 'u1', 'u2', 'u1', 'u1', 'u1', 'u3'],
    concept: ['a', 'a', 'a', 'b', 'b', 'b', 'c'],
    correct: [1, 0, 1, 0, 1, 1, 0],
  });
  // Table order: a/u1 (rows 0-1), a/u2 (row 2), b/u1 (rows 3-5), c/u3 (row 6).
  const predictions = Float64Array.from([0.5, 0.6, 0.5, 0.2, 0.4, 0.7, NaN]);

  it('pools the k-th attempt of every scored sequence, by hand', () => {
    const curve = overallLearningCurve(table, predictions, 1);
    // k = 1: a/u1 1, a/u2 1, b/u1 0 -> 2/3 observed; predictions 0.5, 0.5, 0.2 -> 0.4.
    expect(curve.points[0]).toMatchObject({ opportunity: 1, n_learners: 3 });
    expect(curve.points[0].observed).toBeCloseTo(2 / 3, 12);
    expect(curve.points[0].predicted).toBeCloseTo(0.4, 12);
    // k = 2: a/u1 0, b/u1 1 -> 0.5; predictions 0.6, 0.4 -> 0.5.
    expect(curve.points[1]).toMatchObject({ opportunity: 2, n_learners: 2, observed: 0.5 });
    expect(curve.points[1].predicted).toBeCloseTo(0.5, 12);
    // k = 3: b/u1 1 -> 1; prediction 0.7.
    expect(curve.points[2]).toMatchObject({ opportunity: 3, n_learners: 1, observed: 1 });
    expect(curve.points).toHaveLength(3);
    expect(curve.max_opportunity).toBe(3);
  });

  it('stops before the first opportunity with fewer sequences than asked', () => {
    expect(overallLearningCurve(table, predictions, 2).points.map((p) => p.opportunity)).toEqual([1, 2]);
    expect(overallLearningCurve(table, predictions, 4).points).toEqual([]);
  });
});

describe('unitHistogram and signedForPeople', () => {
  it('counts values into equal bins over [0, 1], 1 in the last bin, NaN nowhere', () => {
    expect(unitHistogram([0, 0.05, 0.1, 0.49, 0.5, 0.99, 1, NaN], 4)).toEqual([3, 1, 1, 2]);
  });

  it('prints small differences with four decimals, never an exponent', () => {
    expect(signedForPeople(-3.973e-4)).toBe('−0.0004');
    expect(signedForPeople(0.01234)).toBe('+0.012');
    expect(signedForPeople(2e-6)).toBe('0');
    expect(signedForPeople(null)).toBe('–');
  });
});

describe('calibrationBins', () => {
  it('cuts the rows sorted by prediction into equal-count groups', () => {
    const bins = calibrationBins(Float64Array.from([0.9, 0.1, 0.5, 0.3]), Uint8Array.from([1, 0, 1, 0]), undefined, 2);
    expect(bins).toHaveLength(2);
    expect(bins[0].n).toBe(2);
    expect(bins[0].predicted).toBeCloseTo(0.2, 12);
    expect(bins[0].observed).toBe(0);
    expect(bins[1].predicted).toBeCloseTo(0.7, 12);
    expect(bins[1].observed).toBe(1);
  });

  it('gives the first groups the extra rows and never more groups than rows', () => {
    const bins = calibrationBins(Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5]), Uint8Array.from([0, 0, 1, 1, 1]), undefined, 2);
    expect(bins.map((b) => b.n)).toEqual([3, 2]);
    expect(bins[0].observed).toBeCloseTo(1 / 3, 12);
    expect(calibrationBins(Float64Array.from([0.5]), Uint8Array.from([1]), undefined, 10)).toHaveLength(1);
  });

  it('makes fewer groups where a group would hold fewer than minGroupSize rows, none below one group', () => {
    const predictions = Float64Array.from({ length: 25 }, (_, i) => i / 25);
    const correct = Uint8Array.from({ length: 25 }, (_, i) => (i >= 15 ? 1 : 0));
    // 25 rows, groups of at least 10: floor(25 / 10) = 2 groups of 13 and 12 rows.
    const bins = calibrationBins(predictions, correct, undefined, 10, 10);
    expect(bins.map((b) => b.n)).toEqual([13, 12]);
    expect(bins[0].observed).toBe(0);
    expect(bins[1].observed).toBeCloseTo(10 / 12, 12);
    expect(calibrationBins(predictions, correct, undefined, 10, 26)).toEqual([]);
  });

  it('leaves out rows without a prediction', () => {
    const bins = calibrationBins(Float64Array.from([NaN, 0.2, 0.8]), Uint8Array.from([1, 0, 1]), undefined, 2);
    expect(bins.map((b) => [b.n, b.predicted, b.observed])).toEqual([
      [1, 0.2, 0],
      [1, 0.8, 1],
    ]);
  });
});

describe('renderReportHtml', () => {
  const truth = Array.from({ length: 12 }, (_, i) => ({ p_L0: 0.2, p_T: 0.05 + i * 0.01, p_S: 0.1, p_G: 0.15 + i * 0.02, p_F: 0 }));
  const table = simulateAttempts({ params: truth, learners: 40, attemptsPerLearner: 15, seed: 3 });
  // Concept 12 is left without params; concept 11 gets degenerate ones.
  const entries = table.conceptIds.slice(0, 11).map((id, i) => ({
    concept_id: id,
    params: i === 10 ? { p_L0: 0.2, p_T: 0.1, p_S: 0.45, p_G: 0.5, p_F: 0 } : truth[i],
  }));
  const { report, predictions } = evaluateParams(table, entries);
  const validation = validateParams(entries, {}, report);
  const data = buildReportData(table, predictions, report, validation, { title: 'Test <report>' });
  const html = renderReportHtml(data);

  it('holds every concept, the overview, the scatter and the curves computed by learningCurve', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<title>Test &lt;report&gt;</title>');
    for (const id of table.conceptIds) expect(html).toContain(`id="c-${id}"`);
    expect(html).toContain('aria-label="guess versus slip"');
    expect(html).toContain('<table id="overview"');
    const c1 = data.concepts.find((c) => c.concept_id === 'concept-1');
    expect(c1?.curve).toEqual(learningCurve(table, predictions, table.conceptIds.indexOf('concept-1'), 10));
    expect(data.concepts.find((c) => c.concept_id === 'concept-12')).toMatchObject({ status: null, params: null, calibration: [] });
    expect(data.concepts.find((c) => c.concept_id === 'concept-11')?.status).toBe('fail');
  });

  it('shows the overall curve, the parameter distributions and, when given, the cross-validation', async () => {
    expect(data.overall_curve).toEqual(overallLearningCurve(table, predictions, 10));
    expect(html).toContain('Learning across all concepts');
    for (const name of ['L0 (prior)', 'T (learn)', 'G (guess)', 'S (slip)']) expect(html).toContain(`aria-label="distribution of ${name}"`);
    expect(html).toContain('bkt report --cv 5');
    expect(html).toContain('share correct</text>');
    // Calibration groups hold at least 30 rows: 15 rows per learner and concept times 40 learners.
    for (const c of data.concepts) for (const b of c.calibration) expect(b.n).toBeGreaterThanOrEqual(30);
    const cv = await crossValidate(table, { folds: 3, seed: 7, trainer: { restarts: 1 } });
    const withCv = renderReportHtml(buildReportData(table, predictions, report, validation, { crossValidation: cv }));
    expect(withCv).toContain('mean of 3 folds');
    expect(withCv).toContain('CV AUC');
    expect(withCv).not.toContain('bkt report --cv 5');
  });

  it('fetches nothing: no external URL, stylesheet link or script src', () => {
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<link /);
    expect(html).not.toMatch(/<script [^>]*src=/);
  });

  it.skipIf(!CHROMIUM)('renders in headless Chromium to a non-empty screenshot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bkt-report-'));
    try {
      const file = join(dir, 'report.html');
      writeFileSync(file, html);
      expect(screenshot(file, join(dir, 'report.png'), dir)).toBeGreaterThan(10_000);
      // The charts are drawn, not just laid out: the observed curves' blue, the predicted curves'
      // orange and the parameter histograms' blue (#4c6ef5 at 75% over white = #7992f7) are on
      // the screen in quantity (a 1,400 x 2,000 screenshot shows the top panels and the first cards).
      const png = readPng(join(dir, 'report.png'));
      expect(png.width).toBe(1400);
      expect(countColour(png, '#1f4e9c')).toBeGreaterThan(500);
      expect(countColour(png, '#d9480f')).toBeGreaterThan(50);
      expect(countColour(png, '#7992f7')).toBeGreaterThan(2_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  if (!CHROMIUM) console.warn('report-html.test: /usr/bin/chromium not found; the headless rendering test is skipped');
});

describe('learningCurve properties', () => {
  it('with minLearners 1, counts every row once and averages to the share correct and mean prediction', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ learner: fc.integer({ min: 0, max: 5 }), correct: fc.integer({ min: 0, max: 1 }) }), {
          minLength: 1,
          maxLength: 60,
        }),
        (rows) => {
          // Arrange
          const table = AttemptsTableBuilder.fromArrays({
            learner: rows.map((r) => `u${r.learner}`),
            concept: rows.map(() => 'a'),
            correct: rows.map((r) => r.correct),
          });
          const predictions = Float64Array.from({ length: table.length }, (_, i) => (i % 7) / 7);
          // Act
          const curve = learningCurve(table, predictions, 0, 1);
          // Assert
          const n = curve.points.reduce((s, p) => s + p.n_learners, 0);
          expect(n).toBe(table.length);
          const correct = curve.points.reduce((s, p) => s + p.observed * p.n_learners, 0);
          expect(correct).toBeCloseTo(table.correct.reduce((s, c) => s + c, 0), 9);
          const predicted = curve.points.reduce((s, p) => s + p.predicted * p.n_learners, 0);
          expect(predicted).toBeCloseTo(predictions.reduce((s, c) => s + c, 0), 9);
          // Learner counts never grow with the opportunity number.
          for (let k = 1; k < curve.points.length; k++) expect(curve.points[k].n_learners).toBeLessThanOrEqual(curve.points[k - 1].n_learners);
        },
      ),
    );
  });
});
