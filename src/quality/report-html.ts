import type { AttemptsTable } from '../data/attempts-table.js';
import type { BktParams } from '../model/params.js';
import { toUuid } from '../store/ids.js';
import type { ConceptCrossValidation, CrossValidationResult } from './evaluate.js';
import type { EvaluationReport, Lift, MetricSet } from './evaluation-types.js';
import {
  calibrationBins,
  learningCurve,
  overallLearningCurve,
  unitHistogram,
  type CalibrationBin,
  type LearningCurve,
} from './report-curves.js';
import type { CheckResult, CheckStatus, ValidationReport } from './validate.js';

export { calibrationBins, learningCurve, overallLearningCurve, unitHistogram } from './report-curves.js';

/** Everything one concept's section of the report shows. */
export interface ReportConcept {
  concept_id: string;
  /** The concept's name as `bkt import` kept it (parameters from a database); null when none. */
  concept_label: string | null;
  n_attempts: number;
  n_users: number;
  share_correct: number;
  params: BktParams | null;
  /** Worst validate status; null when the concept has no parameters. */
  status: CheckStatus | null;
  checks: CheckResult[];
  metrics: MetricSet | null;
  lift: Lift | null;
  curve: LearningCurve;
  calibration: CalibrationBin[];
  /** The concept's cross-validated figures, when the report cross-validated. */
  cv: ConceptCrossValidation | null;
}

export interface ReportData {
  title: string;
  /** Free text lines shown under the title (input file, params source, generated at). */
  subtitle: string[];
  overall: EvaluationReport['overall'];
  baseline_source: EvaluationReport['baseline_source'];
  rows_total: number;
  rows_scored: number;
  n_learners: number;
  concepts: ReportConcept[];
  min_learners: number;
  /** Learning curve pooled over every scored (learner, concept) sequence. */
  overall_curve: LearningCurve;
  /** Calibration of every scored row. */
  overall_calibration: CalibrationBin[];
  /** Calibration groups hold at least this many rows. */
  min_calibration_rows: number;
  /** K-fold cross-validation by learner, when asked for (`bkt report --cv K`). */
  cross_validation: CrossValidationResult | null;
}

export interface BuildReportOptions {
  title?: string;
  subtitle?: string[];
  /** Learning curves stop before the first opportunity with fewer learners. Default 10. */
  minLearners?: number;
  /** Calibration groups. Default 10 (deciles). */
  calibrationBins?: number;
  /** Fewer calibration groups where a group would hold fewer rows. Default 30. */
  minCalibrationRows?: number;
  /** Cross-validation figures to show (`crossValidate` on the same attempts). */
  crossValidation?: CrossValidationResult;
  /** Concept names by lower-case UUID (`Store.labels`), shown beside the ids they name. */
  conceptLabels?: ReadonlyMap<string, string>;
}

/**
 * Gather the report's numbers (pure): per concept of `table`, its curve and calibration from
 * `predictions` (row-aligned with the table, NaN where the concept has no parameters), its
 * metrics from `evaluation` and its checks from `validation`.
 */
export function buildReportData(
  table: AttemptsTable,
  predictions: Float64Array,
  evaluation: EvaluationReport,
  validation: ValidationReport,
  options: BuildReportOptions = {},
): ReportData {
  const minLearners = options.minLearners ?? 10;
  const minCalibrationRows = options.minCalibrationRows ?? 30;
  const groups = options.calibrationBins ?? 10;
  const cvById = new Map((options.crossValidation?.per_concept ?? []).map((c) => [c.concept_id, c]));
  const evalById = new Map(evaluation.concepts.map((c) => [c.concept_id, c]));
  const validById = new Map(validation.concepts.map((c) => [c.concept_id, c]));
  const concepts: ReportConcept[] = table.conceptIds.map((id, c) => {
    const ev = evalById.get(id);
    const va = validById.get(id);
    const s0 = table.conceptSequenceStart[c];
    const s1 = table.conceptSequenceStart[c + 1];
    const rows = { start: table.sequenceStart[s0], end: table.sequenceStart[s1] };
    const hasParams = va !== undefined && ev?.status !== 'no_params';
    return {
      concept_id: id,
      concept_label: options.conceptLabels?.get(toUuid(id)) ?? null,
      n_attempts: rows.end - rows.start,
      n_users: s1 - s0,
      share_correct: ev?.share_correct ?? NaN,
      params: va?.params ?? null,
      status: va?.status ?? null,
      checks: va?.checks ?? [],
      metrics: ev?.model ?? null,
      lift: ev?.lift ?? null,
      curve: hasParams
        ? learningCurve(table, predictions, c, minLearners)
        : learningCurve(table, new Float64Array(table.length).fill(NaN), c, minLearners),
      calibration: hasParams ? calibrationBins(predictions, table.correct, rows, groups, minCalibrationRows) : [],
      cv: cvById.get(id) ?? null,
    };
  });
  return {
    title: options.title ?? 'BKT model report',
    subtitle: options.subtitle ?? [],
    overall: evaluation.overall,
    baseline_source: evaluation.baseline_source,
    rows_total: evaluation.rows_total,
    rows_scored: evaluation.rows_scored,
    n_learners: table.learnerIds.length,
    concepts,
    min_learners: minLearners,
    overall_curve: overallLearningCurve(table, predictions, minLearners),
    overall_calibration: calibrationBins(predictions, table.correct, undefined, 20, minCalibrationRows),
    min_calibration_rows: minCalibrationRows,
    cross_validation: options.crossValidation ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering: plain strings, inline SVG, no external resources.

const esc = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
/**
 * A signed difference for people: three decimals, four when it is smaller than 0.001 (a lift of
 * -0.0004, never -3.973e-4), and "0" when even four decimals round it away.
 */
export function signedForPeople(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const digits = Math.abs(x) >= 0.001 ? 3 : 4;
  const text = Math.abs(x).toFixed(digits);
  if (Number(text) === 0) return '0';
  return `${x > 0 ? '+' : '−'}${text}`;
}
const signed = signedForPeople;
const count = (n: number) => n.toLocaleString('en-US');
const r1 = (x: number) => Math.round(x * 10) / 10;
const anchor = (id: string) => `c-${id.replace(/[^A-Za-z0-9_-]/g, (ch) => `_${ch.charCodeAt(0).toString(16)}`)}`;

const COLORS = { observed: '#1f4e9c', predicted: '#d9480f', pass: '#2b8a3e', warn: '#e67700', fail: '#c92a2a', none: '#868e96' };

function statusBadge(status: CheckStatus | null): string {
  const label = status === null ? 'no params' : status;
  return `<span class="badge ${status ?? 'none'}">${label}</span>`;
}

/** Horizontal grid lines and labels at the given shares, for a chart whose y axis is [0, 1]. */
function shareTicksY(ticks: number[], left: number, right: number, y: (p: number) => number): string {
  return ticks
    .map((t) => `<line x1="${left}" x2="${right}" y1="${r1(y(t))}" y2="${r1(y(t))}" class="grid"/><text x="${left - 4}" y="${r1(y(t) + 3)}" text-anchor="end" class="tick">${t}</text>`)
    .join('');
}

/** A y-axis title, rotated, centred on the plot area. */
const yTitle = (text: string, x: number, yMid: number) => `<text transform="translate(${x} ${r1(yMid)}) rotate(-90)" text-anchor="middle" class="axis">${esc(text)}</text>`;

/**
 * The learning curve: observed (solid, dots) and predicted (dashed) share correct by opportunity,
 * with the count of sequences behind each point as grey bars. `unit` names what the bars count
 * ("learners" for one concept, "sequences" for the overall curve).
 */
export function learningCurveSvg(curve: LearningCurve, width = 460, height = 230, unit = 'learners'): string {
  const m = { left: 46, right: 10, top: 10, bottom: 34 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const pts = curve.points;
  if (pts.length === 0) {
    return `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img"><text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="muted">fewer than ${curve.min_learners} ${unit} at opportunity 1</text></svg>`;
  }
  const n = pts.length;
  const x = (k: number) => m.left + (n === 1 ? w / 2 : ((k - 1) / (n - 1)) * w);
  const y = (p: number) => m.top + (1 - p) * h;
  const maxCount = pts[0].n_learners;
  const barW = Math.max(1, Math.min(12, w / n - 1));
  const bars = pts
    .map((p) => {
      const bh = (p.n_learners / maxCount) * h * 0.35;
      return `<rect x="${r1(x(p.opportunity) - barW / 2)}" y="${r1(m.top + h - bh)}" width="${r1(barW)}" height="${r1(bh)}" class="bar"><title>opportunity ${p.opportunity}: ${count(p.n_learners)} ${unit}</title></rect>`;
    })
    .join('');
  const line = (key: 'observed' | 'predicted') =>
    pts.filter((p) => Number.isFinite(p[key])).map((p) => `${r1(x(p.opportunity))},${r1(y(p[key]))}`).join(' ');
  const dots = pts
    .map(
      (p) =>
        `<circle cx="${r1(x(p.opportunity))}" cy="${r1(y(p.observed))}" r="2.2" fill="${COLORS.observed}"><title>opportunity ${p.opportunity}: observed ${num(p.observed)}, predicted ${num(p.predicted)}, ${count(p.n_learners)} ${unit}</title></circle>`,
    )
    .join('');
  const lastK = pts[n - 1].opportunity;
  const ticksX = [1, Math.round(1 + (lastK - 1) / 4), Math.round((1 + lastK) / 2), Math.round(1 + (3 * (lastK - 1)) / 4), lastK]
    .filter((k, i, all) => all.indexOf(k) === i)
    .map((k) => `<text x="${r1(x(k))}" y="${m.top + h + 14}" text-anchor="middle" class="tick">${k}</text>`)
    .join('');
  const predicted = line('predicted');
  return `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="learning curve">${shareTicksY([0, 0.25, 0.5, 0.75, 1], m.left, m.left + w, y)}${bars}<polyline points="${line('observed')}" fill="none" stroke="${COLORS.observed}" stroke-width="1.6"/>${predicted ? `<polyline points="${predicted}" fill="none" stroke="${COLORS.predicted}" stroke-width="1.6" stroke-dasharray="5 3"/>` : ''}${dots}${ticksX}<text x="${r1(m.left + w / 2)}" y="${height - 4}" text-anchor="middle" class="axis">opportunity (k-th attempt; bars: ${unit})</text>${yTitle('share correct', 12, m.top + h / 2)}</svg>`;
}

/** Calibration plot: mean prediction (x) against observed share correct (y) per group, with the diagonal. */
export function calibrationSvg(bins: CalibrationBin[], size = 230): string {
  const m = { left: 46, right: 10, top: 10, bottom: 34 };
  const w = size - m.left - m.right;
  const h = size - m.top - m.bottom;
  const x = (p: number) => m.left + p * w;
  const y = (p: number) => m.top + (1 - p) * h;
  const points = bins
    .map(
      (b) =>
        `<circle cx="${r1(x(b.predicted))}" cy="${r1(y(b.observed))}" r="3.2" fill="${COLORS.predicted}" fill-opacity="0.85"><title>predicted ${num(b.predicted)}, observed ${num(b.observed)}, ${count(b.n)} rows</title></circle>`,
    )
    .join('');
  const path = bins.map((b) => `${r1(x(b.predicted))},${r1(y(b.observed))}`).join(' ');
  const ticksX = [0, 0.5, 1].map((t) => `<text x="${r1(x(t))}" y="${m.top + h + 14}" text-anchor="middle" class="tick">${t}</text>`).join('');
  return `<svg class="chart" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" role="img" aria-label="calibration"><rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" class="frame"/>${shareTicksY([0, 0.5, 1], m.left, m.left + w, y)}<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" class="diag"/>${bins.length ? `<polyline points="${path}" fill="none" stroke="${COLORS.predicted}" stroke-width="1"/>` : ''}${points}${ticksX}<text x="${r1(m.left + w / 2)}" y="${size - 4}" text-anchor="middle" class="axis">predicted P(correct)</text>${yTitle('observed share correct', 12, m.top + h / 2)}</svg>`;
}

/** One histogram of a parameter over [0, 1] across concepts (20 bins), with labelled axes. */
export function parameterHistogramSvg(name: string, values: readonly number[], width = 250, height = 150): string {
  const m = { left: 36, right: 8, top: 18, bottom: 30 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const counts = unitHistogram(values, 20);
  const top = Math.max(1, ...counts);
  const binW = w / counts.length;
  const bars = counts
    .map((c, i) => {
      const bh = (c / top) * h;
      return c === 0
        ? ''
        : `<rect x="${r1(m.left + i * binW + 0.5)}" y="${r1(m.top + h - bh)}" width="${r1(binW - 1)}" height="${r1(bh)}" class="hist"><title>${name} in [${(i / 20).toFixed(2)}, ${((i + 1) / 20).toFixed(2)}): ${c} concepts</title></rect>`;
    })
    .join('');
  const ticksX = [0, 0.25, 0.5, 0.75, 1].map((t) => `<text x="${r1(m.left + t * w)}" y="${m.top + h + 12}" text-anchor="middle" class="tick">${t}</text>`).join('');
  const ticksY = [0, top].map((t) => `<text x="${m.left - 4}" y="${r1(m.top + h - (t / top) * h + 3)}" text-anchor="end" class="tick">${t}</text>`).join('');
  return `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="distribution of ${esc(name)}"><text x="${m.left}" y="12" class="axis"><tspan font-weight="600">${esc(name)}</tspan> (${values.length} concepts)</text><line x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}" class="frame"/>${bars}${ticksX}${ticksY}<text x="${r1(m.left + w / 2)}" y="${height - 3}" text-anchor="middle" class="tick axis">value</text>${yTitle('concepts', 10, m.top + h / 2)}</svg>`;
}

/** The distribution of every fitted parameter across concepts: L0, T, G, S, and F when any concept forgets. */
function parameterDistributions(concepts: ReportConcept[]): string {
  const fitted = concepts.filter((c) => c.params).map((c) => c.params as BktParams);
  if (fitted.length === 0) return '<p class="muted">No concept has parameters.</p>';
  const names: Array<[string, keyof BktParams]> = [
    ['L0 (prior)', 'p_L0'],
    ['T (learn)', 'p_T'],
    ['G (guess)', 'p_G'],
    ['S (slip)', 'p_S'],
  ];
  if (fitted.some((p) => p.p_F > 0)) names.push(['F (forget)', 'p_F']);
  return `<div class="plots wrap">${names.map(([label, key]) => parameterHistogramSvg(label, fitted.map((p) => p[key]))).join('')}</div>`;
}

/** Cross-validation: the means over folds and one row per fold. */
function crossValidationSection(cv: CrossValidationResult | null): string {
  if (!cv) {
    return '<p class="small muted">Not cross-validated. <code>bkt report --cv 5</code> adds a 5-fold cross-validation by learner (each fold fitted on the other folds\' learners).</p>';
  }
  const rows = cv.per_fold
    .map((f) => `<tr><th>fold ${f.fold + 1}</th><td>${f.metrics ? count(f.metrics.n) : '–'}</td><td>${num(f.metrics?.auc)}</td><td>${num(f.metrics?.rmse)}</td><td>${num(f.metrics?.log_loss)}</td><td>${num(f.metrics?.accuracy)}</td></tr>`)
    .join('');
  return `<table class="metrics"><thead><tr><th></th><th>rows</th><th>AUC</th><th>RMSE</th><th>log loss</th><th>accuracy</th></tr></thead><tbody>${rows}<tr class="lift"><th>mean of ${cv.cv_folds} folds</th><td></td><td>${num(cv.cv_auc_mean)}</td><td>${num(cv.cv_rmse_mean)}</td><td>${num(cv.cv_log_loss_mean)}</td><td>${num(cv.cv_accuracy_mean)}</td></tr></tbody></table><p class="small muted" style="max-width:640px">Learners are split into ${cv.cv_folds} folds (seed ${cv.cv_seed}); each fold's attempts are predicted with parameters fitted on the other folds, so these figures are out-of-sample even when the report's own parameters were fitted on the same attempts.</p>`;
}

/**
 * Guess (x) against slip (y) for every concept. Shaded: S + G >= 1 (invalid) and
 * (1 - S) - G < 0.1, i.e. S + G > 0.9 (degenerate, schema.md); dashed: the default bounds 0.4.
 */
export function guessSlipScatterSvg(concepts: ReportConcept[], size = 360, minDiscrimination = 0.1): string {
  const m = { left: 40, right: 12, top: 12, bottom: 36 };
  const w = size - m.left - m.right;
  const h = size - m.top - m.bottom;
  const x = (g: number) => m.left + g * w;
  const y = (s: number) => m.top + (1 - s) * h;
  const edge = 1 - minDiscrimination;
  const degenerate = `<polygon points="${x(edge)},${y(0)} ${x(1)},${y(0)} ${x(1)},${y(1)} ${x(0)},${y(1)} ${x(0)},${y(edge)}" class="degenerate"/>`;
  const invalid = `<polygon points="${x(1)},${y(0)} ${x(1)},${y(1)} ${x(0)},${y(1)}" class="invalid"/>`;
  const bounds = `<line x1="${x(0.4)}" y1="${y(0)}" x2="${x(0.4)}" y2="${y(1)}" class="bound"/><line x1="${x(0)}" y1="${y(0.4)}" x2="${x(1)}" y2="${y(0.4)}" class="bound"/>`;
  const dots = concepts
    .filter((c) => c.params)
    .map((c) => {
      const p = c.params as BktParams;
      const color = COLORS[c.status ?? 'none'];
      return `<a href="#${anchor(c.concept_id)}"><circle cx="${r1(x(p.p_G))}" cy="${r1(y(p.p_S))}" r="${r1(Math.max(2.5, Math.min(7, Math.sqrt(c.n_attempts) / 12)))}" fill="${color}" fill-opacity="0.65" stroke="#fff" stroke-width="0.5"><title>${esc(conceptName(c))}: G ${num(p.p_G)}, S ${num(p.p_S)}, ${c.n_attempts} attempts, ${c.status}</title></circle></a>`;
    })
    .join('');
  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1]
    .map(
      (t) =>
        `<text x="${r1(x(t))}" y="${m.top + h + 14}" text-anchor="middle" class="tick">${t}</text><text x="${m.left - 5}" y="${r1(y(t) + 3)}" text-anchor="end" class="tick">${t}</text>`,
    )
    .join('');
  return `<svg class="chart" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" role="img" aria-label="guess versus slip"><rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" class="frame"/>${degenerate}${invalid}${bounds}<text x="${x(0.97)}" y="${y(0.9)}" text-anchor="end" class="region">invalid: S + G ≥ 1</text><text transform="translate(${r1(x(0.5 - minDiscrimination / 4))} ${r1(y(0.5 - minDiscrimination / 4))}) rotate(45)" text-anchor="middle" class="region" dy="3">degenerate: (1−S)−G &lt; ${minDiscrimination}</text>${dots}${ticks}<text x="${r1(x(0.5))}" y="${size - 6}" text-anchor="middle" class="axis">guess p_G</text><text transform="translate(12 ${r1(y(0.5))}) rotate(-90)" text-anchor="middle" class="axis">slip p_S</text></svg>`;
}

function metricsTable(overall: EvaluationReport['overall']): string {
  const row = (name: string, ms: MetricSet | null) =>
    `<tr><th>${name}</th><td>${ms ? count(ms.n) : '–'}</td><td>${num(ms?.auc)}</td><td>${num(ms?.rmse)}</td><td>${num(ms?.log_loss)}</td><td>${num(ms?.accuracy)}</td></tr>`;
  return `<table class="metrics"><thead><tr><th></th><th>rows</th><th>AUC</th><th>RMSE</th><th>log loss</th><th>accuracy</th></tr></thead><tbody>${row('BKT model', overall.model)}${row('baseline: per-concept mean', overall.baseline_concept_mean)}${row('baseline: overall mean', overall.baseline_overall_mean)}<tr class="lift"><th>lift over per-concept mean</th><td></td><td>${signed(overall.lift?.auc)}</td><td>${signed(overall.lift?.rmse)}</td><td>${signed(overall.lift?.log_loss)}</td><td>${signed(overall.lift?.accuracy)}</td></tr></tbody></table>`;
}

/**
 * The name to show for a concept: its label when it says more than the id (a label equal to the
 * id, as for a file's own names, or a number, which its UUID spells, does not); else null.
 */
function shownLabel(c: ReportConcept): string | null {
  return c.concept_label && c.concept_label !== c.concept_id && !/^\d+$/.test(c.concept_label) ? c.concept_label : null;
}

/** "name (id)" where the concept has a label worth showing, else the id. */
function conceptName(c: ReportConcept): string {
  const label = shownLabel(c);
  return label ? `${label} (${c.concept_id})` : c.concept_id;
}

function overviewTable(concepts: ReportConcept[], withCv: boolean): string {
  const cell = (value: number | null | undefined, digits = 3) => `<td data-v="${value === null || value === undefined || !Number.isFinite(value) ? '' : value}">${num(value, digits)}</td>`;
  const countCell = (value: number) => `<td data-v="${value}">${count(value)}</td>`;
  const statusRank = (s: CheckStatus | null) => (s === 'fail' ? 0 : s === 'warn' ? 1 : s === 'pass' ? 2 : 3);
  const rows = concepts
    .map((c) => {
      const failing = c.checks
        .filter((k) => k.status !== 'pass')
        .map((k) => `<span class="${k.status}" title="${esc(k.message)}">${esc(k.name)}</span>`)
        .join(', ');
      return `<tr class="${c.status ?? 'none'}"><td data-v="${esc(shownLabel(c) ?? c.concept_id)}"><a href="#${anchor(c.concept_id)}">${esc(shownLabel(c) ?? c.concept_id)}</a>${shownLabel(c) ? ` <span class="small muted">${esc(c.concept_id)}</span>` : ''}</td><td data-v="${statusRank(c.status)}">${statusBadge(c.status)}</td>${countCell(c.n_attempts)}${countCell(c.n_users)}${cell(c.share_correct)}${cell(c.metrics?.auc)}${cell(c.metrics?.rmse)}<td data-v="${c.lift?.rmse ?? ''}">${signed(c.lift?.rmse)}</td>${withCv ? `${cell(c.cv?.cv_auc_mean)}${cell(c.cv?.cv_rmse_mean)}` : ''}${cell(c.params?.p_L0)}${cell(c.params?.p_T)}${cell(c.params?.p_G)}${cell(c.params?.p_S)}${c.params && c.params.p_F > 0 ? cell(c.params.p_F) : '<td data-v="">–</td>'}<td class="checks">${failing}</td></tr>`;
    })
    .join('\n');
  const head = ['concept', 'verdict', 'attempts', 'learners', 'correct', 'AUC', 'RMSE', 'RMSE lift', ...(withCv ? ['CV AUC', 'CV RMSE'] : []), 'L0', 'T', 'G', 'S', 'F', 'checks not passed']
    .map((h, i) => `<th data-col="${i}" title="click to sort">${h}</th>`)
    .join('');
  return `<table id="overview" class="overview"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function conceptCard(c: ReportConcept, minLearners: number, minCalibrationRows: number): string {
  const p = c.params;
  const params = p
    ? `<div class="params">L0 <b>${num(p.p_L0)}</b> · T <b>${num(p.p_T)}</b> · G <b>${num(p.p_G)}</b> · S <b>${num(p.p_S)}</b>${p.p_F > 0 ? ` · F <b>${num(p.p_F)}</b>` : ''}</div>`
    : '<div class="params muted">no parameters: rows not scored</div>';
  const cv = c.cv ? ` · cross-validated AUC ${num(c.cv.cv_auc_mean)}, RMSE ${num(c.cv.cv_rmse_mean)}` : '';
  const metrics = c.metrics
    ? `<div class="small">AUC ${num(c.metrics.auc)} · RMSE ${num(c.metrics.rmse)} (lift ${signed(c.lift?.rmse)}) · accuracy ${num(c.metrics.accuracy)}${cv}</div>`
    : '';
  const cut = c.curve.truncated
    ? `<div class="small muted">curve to opportunity ${c.curve.points.length} of ${c.curve.max_opportunity}: fewer than ${minLearners} learners beyond</div>`
    : `<div class="small muted">all ${c.curve.max_opportunity} opportunities shown</div>`;
  const notPassed = c.checks
    .filter((k) => k.status !== 'pass')
    .map((k) => `<div class="issue ${k.status}"><b>${esc(k.name)}</b>: ${esc(k.message)}</div>`)
    .join('');
  const checks = c.checks
    .map((k) => `<li class="${k.status}"><span class="badge ${k.status}">${k.status}</span> <b>${esc(k.name)}</b>: ${esc(k.message)}</li>`)
    .join('');
  return `<section class="card ${c.status ?? 'none'}" id="${anchor(c.concept_id)}"><h3>${esc(shownLabel(c) ?? c.concept_id)} ${statusBadge(c.status)}${shownLabel(c) ? `<span class="small muted"> ${esc(c.concept_id)} ·</span>` : ''}<span class="small muted"> ${count(c.n_attempts)} attempts · ${count(c.n_users)} learners</span></h3>${params}${metrics}${notPassed}<div class="plots">${learningCurveSvg(c.curve)}${c.calibration.length ? calibrationSvg(c.calibration) : c.params ? `<div class="small muted calib-none">fewer than ${minCalibrationRows} scored rows: no calibration plot</div>` : ''}</div>${cut}${checks ? `<details><summary>all ${c.checks.length} checks</summary><ul class="checks">${checks}</ul></details>` : ''}</section>`;
}

const CSS = `
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#212529;background:#f8f9fa}
main{max-width:1380px;margin:0 auto;padding:16px 20px}
h1{font-size:22px;margin:4px 0}h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #dee2e6;padding-bottom:4px}
h3{font-size:13px;margin:0 0 4px;display:flex;gap:6px;align-items:center;flex-wrap:wrap}
.muted{color:#868e96}.small{font-size:11px}
.top{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}
.panel{background:#fff;border:1px solid #dee2e6;border-radius:6px;padding:10px 12px}
.counts{display:flex;gap:10px;margin:8px 0}.counts div{background:#fff;border:1px solid #dee2e6;border-radius:6px;padding:6px 12px;text-align:center}
.counts b{display:block;font-size:20px}
table{border-collapse:collapse;background:#fff}
th,td{padding:3px 7px;border-bottom:1px solid #e9ecef;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
.overview{font-size:12px;width:100%}.overview thead th{position:sticky;top:0;background:#e9ecef;cursor:pointer;user-select:none}
.overview thead th.asc::after{content:" ▲"}.overview thead th.desc::after{content:" ▼"}
.overview td.checks{text-align:left;white-space:normal;font-size:11px}.overview td.checks .fail{color:#c92a2a;font-weight:600}.overview td.checks .warn{color:#e67700}
.overview tr.fail td:first-child{border-left:3px solid #c92a2a}.overview tr.warn td:first-child{border-left:3px solid #e67700}
.table-wrap{max-height:640px;overflow:auto;border:1px solid #dee2e6;border-radius:6px}
.metrics tr.lift{font-weight:600}
.badge{display:inline-block;border-radius:9px;padding:0 7px;font-size:11px;color:#fff;font-weight:600}
.badge.pass{background:#2b8a3e}.badge.warn{background:#e67700}.badge.fail{background:#c92a2a}.badge.none{background:#868e96}
.grid-cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(700px,1fr));gap:12px}
.card{background:#fff;border:1px solid #dee2e6;border-radius:6px;padding:8px 10px}
.card.fail{border-top:3px solid #c92a2a}.card.warn{border-top:3px solid #e67700}.card.pass{border-top:3px solid #2b8a3e}
.plots{display:flex;gap:8px;align-items:flex-start}.plots.wrap{flex-wrap:wrap}.calib-none{width:200px;padding-top:90px;text-align:center}
.params{font-size:12px}
ul.checks{margin:4px 0;padding-left:4px;list-style:none;font-size:11px}
.chart text{font-size:11px;fill:#495057}.chart .muted{fill:#868e96}.chart .axis{font-size:11px;fill:#343a40}.chart .hist{fill:#4c6ef5;fill-opacity:0.75}
.chart .grid{stroke:#e9ecef}.chart .frame{fill:none;stroke:#dee2e6}.chart .diag{stroke:#adb5bd;stroke-dasharray:3 3}
.chart .bar{fill:#ced4da}.chart .degenerate{fill:#ffe3e3}.chart .invalid{fill:#ffa8a8}.chart .bound{stroke:#adb5bd;stroke-dasharray:4 3}
.chart .region{font-size:10px;fill:#c92a2a}
.legend span{display:inline-flex;align-items:center;gap:4px;margin-right:12px}
.legend i{display:inline-block;width:18px;height:0;border-top:2px solid}
details summary{cursor:pointer;font-size:11px;color:#495057}
.issue{font-size:11px}.issue.fail{color:#c92a2a}.issue.warn{color:#b35c00}
`;

// Sorting the overview table: numbers numerically, blanks last; click again to reverse.
const SCRIPT = `
document.querySelectorAll('#overview thead th').forEach(function(th){th.addEventListener('click',function(){
var table=th.closest('table'),body=table.tBodies[0],col=+th.dataset.col,asc=!th.classList.contains('asc');
table.querySelectorAll('thead th').forEach(function(h){h.classList.remove('asc','desc')});th.classList.add(asc?'asc':'desc');
var rows=Array.prototype.slice.call(body.rows);
rows.sort(function(a,b){var x=a.cells[col].dataset.v,y=b.cells[col].dataset.v;
if(x===''&&y!=='')return 1;if(y===''&&x!=='')return -1;var nx=parseFloat(x),ny=parseFloat(y);
var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:String(x).localeCompare(String(y),undefined,{numeric:true});return asc?c:-c;});
rows.forEach(function(r){body.appendChild(r)});});});
`;

/**
 * One self-contained HTML page: summary and overall metrics beside the baselines, the
 * guess-versus-slip scatter, the sortable overview table, then one card per concept (learning
 * curve, calibration, parameters and checks). Nothing is fetched: inline CSS, SVG and a small
 * sorting script. Concepts are ordered worst verdict first, then by attempts.
 */
export function renderReportHtml(data: ReportData): string {
  const rank = (s: CheckStatus | null) => (s === 'fail' ? 0 : s === 'warn' ? 1 : s === 'pass' ? 2 : 3);
  const concepts = [...data.concepts].sort((a, b) => rank(a.status) - rank(b.status) || b.n_attempts - a.n_attempts || (a.concept_id < b.concept_id ? -1 : 1));
  const withVerdict = (s: CheckStatus | null) => data.concepts.filter((c) => c.status === s).length;
  const counts = `<div class="counts"><div><b>${data.concepts.length}</b>concepts</div><div><b style="color:${COLORS.pass}">${withVerdict('pass')}</b>pass</div><div><b style="color:${COLORS.warn}">${withVerdict('warn')}</b>warn</div><div><b style="color:${COLORS.fail}">${withVerdict('fail')}</b>fail</div><div><b style="color:${COLORS.none}">${withVerdict(null)}</b>no params</div><div><b>${data.rows_scored.toLocaleString('en-US')}</b>of ${data.rows_total.toLocaleString('en-US')} rows scored</div><div><b>${data.n_learners.toLocaleString('en-US')}</b>learners</div></div>`;
  const baselineNote =
    data.baseline_source === 'evaluated_data'
      ? 'Baseline means are computed on the evaluated rows themselves (an in-sample advantage for the baselines).'
      : 'Baseline means are computed on the training rows.';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(data.title)}</title><style>${CSS}</style></head>
<body><main>
<h1>${esc(data.title)}</h1>
${data.subtitle.map((s) => `<div class="muted">${esc(s)}</div>`).join('\n')}
${counts}
<div class="top">
<div class="panel"><h2 style="margin-top:0">Prediction quality</h2>${metricsTable(data.overall)}<p class="small muted" style="max-width:520px">Every attempt is predicted before its answer is seen, each learner's sequence of a concept starting from L0. ${baselineNote} Lift is the model's gain over the per-concept mean (RMSE and log loss: baseline minus model).</p></div>
<div class="panel"><h2 style="margin-top:0">Guess vs slip</h2>${guessSlipScatterSvg(concepts)}<div class="small legend"><span><b style="color:${COLORS.pass}">●</b> pass</span><span><b style="color:${COLORS.warn}">●</b> warn</span><span><b style="color:${COLORS.fail}">●</b> fail</span><span>dot size ~ attempts; dashed: box bounds 0.4</span></div></div>
</div>
<div class="top">
<div class="panel"><h2 style="margin-top:0">Learning across all concepts</h2><div class="plots">${learningCurveSvg(data.overall_curve, 560, 260, 'sequences')}${data.overall_calibration.length ? calibrationSvg(data.overall_calibration, 260) : ''}</div><p class="small muted" style="max-width:820px">Left: share correct at each learner's k-th attempt of a concept, pooled over every (learner, concept) sequence with parameters, observed (solid) and predicted (dashed); it stops where fewer than ${data.min_learners} sequences remain. Right: calibration of every scored row in groups of equal size (at least ${data.min_calibration_rows} rows each).</p></div>
<div class="panel"><h2 style="margin-top:0">Fitted parameters</h2>${parameterDistributions(concepts)}</div>
</div>
<h2>Cross-validation</h2>
${crossValidationSection(data.cross_validation)}
<h2>Overview <span class="small muted">(click a column to sort; worst verdict first)</span></h2>
<div class="table-wrap">${overviewTable(concepts, data.cross_validation !== null)}</div>
<h2>Concepts</h2>
<div class="small legend"><span><i style="border-color:${COLORS.observed}"></i> observed share correct</span><span><i style="border-color:${COLORS.predicted};border-top-style:dashed"></i> predicted</span><span>grey bars: learners at each opportunity</span><span>right: calibration by predicted group of at least ${data.min_calibration_rows} rows (diagonal = perfect)</span><span>curves stop where fewer than ${data.min_learners} learners remain</span></div>
<div class="grid-cards">
${concepts.map((c) => conceptCard(c, data.min_learners, data.min_calibration_rows)).join('\n')}
</div>
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}
