import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError } from './errors.js';
import { csvField } from './export/writers.js';
import type { FitReport, RestartResult } from './model/fit-types.js';
import type { BktParams } from './model/params.js';
import { type VariantModel, parseVariantModel } from './model/variants/variant-model.js';

/**
 * Parameter files: what `bkt fit --out` writes and what `evaluate`, `validate`, `report`,
 * `update` and `fit --db` read back. Two forms, chosen by extension:
 * - JSON (`.json`): `{format: "bkt-params", version: 1, generated_at, settings, summary, concepts: [...]}`,
 *   each concept as `bkt fit --json` prints it (params object, metrics, violations, restarts);
 * - CSV (`.csv`): one row per concept, columns `concept_id, status, reason, p_L0, p_T, p_S, p_G,
 *   p_F, log_likelihood, iterations, converged, n_attempts, n_users, auc, rmse, log_loss,
 *   accuracy, valid, degenerate, violations`.
 * A model-variant fit (`bkt fit --multigs ...`) adds `model` to each concept (JSON): the class
 * parameters (see VariantModel: `variants`, `columns`, and `gs` [{id, p_G, p_S, n_attempts}],
 * `learn` [{id, p_T, p_F, n_transitions}], `pair` [{previous, current, p_T, p_F, n_transitions}],
 * `prior` [{id, p_L0, n_sequences}]); `params` then holds the concept-level values unseen classes
 * fall back to. CSV and NDJSON rows carry it as a `model` column of JSON text; a database
 * export carries it inside `metrics.model`.
 * A fit from the database (`bkt fit --db --out`) names each concept as `bkt import` did:
 * `concept_label` right after `concept_id` in each JSON concept and as the CSV's second column
 * (null or empty where the id had no label); a fit of a file has no such column, its ids being
 * the file's own. The reader keeps it as the entry's `concept_label`, as it does the column
 * `bkt export params` writes.
 * The reader also takes what `bkt export params` writes (CSV, JSON array, NDJSON rows with
 * concept_id and the p_* columns; when several rows name one concept, the active one, else the
 * latest fitted_at, wins), and a plain JSON array of {concept_id, p_L0, ...} or {concept_id, params}.
 */
export const PARAMS_FILE_FORMAT = 'bkt-params';
/** Version of the JSON params file format this package writes. */
export const PARAMS_FILE_VERSION = 1;

/** One concept's parameters as read from a file. */
export interface ParamsFileEntry {
  concept_id: string;
  params: BktParams;
  /** Per-restart outcomes when the file kept them (identifiability checks). */
  restarts?: RestartResult[];
  /** Any other recorded fields (metrics, n_attempts, status...). */
  extra: Record<string, unknown>;
  /** Class parameters of a model-variant fit; absent for standard BKT. */
  model?: VariantModel;
  /** The file's trainer settings (bounds, method...), when it is a `bkt fit --out` JSON file. */
  settings?: Record<string, unknown>;
  /** The name `bkt import` kept for the concept, when the file carries labels (null: none); absent otherwise. */
  concept_label?: string | null;
}

/** Columns of the CSV params file, in order. */
export const PARAMS_CSV_COLUMNS = [
  'concept_id', 'status', 'reason', 'p_L0', 'p_T', 'p_S', 'p_G', 'p_F', 'log_likelihood', 'iterations',
  'converged', 'n_attempts', 'n_users', 'auc', 'rmse', 'log_loss', 'accuracy', 'valid', 'degenerate', 'violations', 'model',
] as const;


/** A fit report whose concepts may carry their labels (a fit from the database). */
export type LabelledFitReport = Omit<FitReport, 'concepts'> & { concepts: Array<FitReport['concepts'][number] & { concept_label?: string | null }> };

/**
 * The CSV form of a fit report (header + one row per concept, skipped ones with empty params);
 * `concept_label` is the second column when the concepts carry labels.
 */
export function fitReportToCsv(report: LabelledFitReport): string {
  const labelled = report.concepts.some((c) => 'concept_label' in c);
  const columns: string[] = labelled ? ['concept_id', 'concept_label', ...PARAMS_CSV_COLUMNS.slice(1)] : [...PARAMS_CSV_COLUMNS];
  const lines = [columns.join(',')];
  for (const c of report.concepts) {
    const row: Record<string, unknown> = {
      concept_id: c.concept_id,
      concept_label: c.concept_label,
      status: c.status,
      reason: c.reason,
      p_L0: c.params?.p_L0,
      p_T: c.params?.p_T,
      p_S: c.params?.p_S,
      p_G: c.params?.p_G,
      p_F: c.params?.p_F,
      log_likelihood: c.log_likelihood,
      iterations: c.iterations,
      converged: c.converged,
      n_attempts: c.n_attempts,
      n_users: c.n_users,
      auc: c.metrics?.auc,
      rmse: c.metrics?.rmse,
      log_loss: c.metrics?.log_loss,
      accuracy: c.metrics?.accuracy,
      valid: c.valid,
      degenerate: c.degenerate,
      violations: c.violations.map((v) => `${v.kind}: ${v.message}`).join('; '),
      model: c.model ? JSON.stringify(c.model) : null,
    };
    lines.push(columns.map((k) => csvField(row[k] === null || row[k] === undefined ? '' : String(row[k]))).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** The JSON form of a fit report. */
export function fitReportToJson(report: LabelledFitReport): string {
  return `${JSON.stringify(
    {
      format: PARAMS_FILE_FORMAT,
      version: PARAMS_FILE_VERSION,
      generated_at: new Date().toISOString(),
      settings: report.settings,
      summary: report.summary,
      concepts: report.concepts,
    },
    null,
    2,
  )}\n`;
}

/** Write a fit report to `path`, CSV when it ends in .csv, else JSON. */
export async function writeParamsFile(path: string, report: LabelledFitReport): Promise<void> {
  const text = extname(path).toLowerCase() === '.csv' ? fitReportToCsv(report) : fitReportToJson(report);
  await writeFile(path, text);
}

const PARAM_KEYS = ['p_L0', 'p_T', 'p_S', 'p_G', 'p_F'] as const;

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return Number.NaN;
}

/** Build one entry from a flat or nested record; throws InputError naming file, line and column. */
function entryFromRecord(record: Record<string, unknown>, file: string, where: string): ParamsFileEntry | null {
  const status = record.status;
  if (typeof status === 'string' && status !== '' && status !== 'fitted') return null;
  const conceptId = record.concept_id;
  if (typeof conceptId !== 'string' && typeof conceptId !== 'number') {
    throw new InputError(`${file} ${where}: no concept_id`, 'Each parameter row needs a concept_id column or key');
  }
  const source = (record.params && typeof record.params === 'object' ? record.params : record) as Record<string, unknown>;
  if (source === record && record.params === null) return null;
  const params = { p_F: 0 } as BktParams;
  for (const key of PARAM_KEYS) {
    const raw = source[key];
    if (key === 'p_F' && (raw === undefined || raw === null || raw === '')) {
      const model = (record.metrics as { model?: { p_F?: unknown } } | undefined)?.model;
      params.p_F = model?.p_F === undefined ? 0 : toNumber(model.p_F);
      continue;
    }
    const value = toNumber(raw);
    if (!(value >= 0 && value <= 1)) {
      throw new InputError(
        `${file} ${where}: column "${key}" is ${JSON.stringify(raw ?? null)}; expected a probability in [0, 1]`,
        'Write parameters with "bkt fit --out" or fix the value',
      );
    }
    params[key] = value;
  }
  const restarts = Array.isArray(record.restarts) ? (record.restarts as RestartResult[]) : undefined;
  const model = modelOf(record, file, where);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (k !== 'params' && k !== 'restarts' && k !== 'concept_id' && k !== 'concept_label' && !(PARAM_KEYS as readonly string[]).includes(k)) extra[k] = v;
  }
  // An empty CSV field and JSON null both mean "no label"; any other value is the label's text.
  const label = record.concept_label;
  const labelled = 'concept_label' in record ? { concept_label: label === null || label === undefined || label === '' ? null : String(label) } : {};
  return { concept_id: String(conceptId), ...labelled, params, restarts, extra, ...(model ? { model } : {}) };
}

/** A record's variant model: `model` (an object, or JSON text in CSV), else `metrics.model`. */
function modelOf(record: Record<string, unknown>, file: string, where: string): VariantModel | null {
  let metrics = record.metrics;
  if (typeof metrics === 'string' && metrics.trim().startsWith('{')) {
    try {
      metrics = JSON.parse(metrics);
    } catch {
      metrics = undefined;
    }
  }
  let raw = record.model ?? (metrics as { model?: unknown } | undefined)?.model;
  if (typeof raw === 'string') {
    if (raw.trim() === '') return null;
    try {
      raw = JSON.parse(raw);
    } catch {
      throw new InputError(`${file} ${where}: column "model" is not valid JSON`, 'Write parameters with "bkt fit --out" or fix the value');
    }
  }
  return parseVariantModel(raw);
}

function isActive(extra: Record<string, unknown>): boolean {
  const v = extra.is_active;
  return v === true || v === 1 || v === 'true' || v === '1' || v === 't';
}

/** When several rows name one concept (an export of the params history), keep the active, then latest. */
function oneEntryPerConcept(entries: ParamsFileEntry[]): ParamsFileEntry[] {
  const chosen = new Map<string, ParamsFileEntry>();
  for (const entry of entries) {
    const current = chosen.get(entry.concept_id);
    if (!current) {
      chosen.set(entry.concept_id, entry);
      continue;
    }
    const better =
      Number(isActive(entry.extra)) - Number(isActive(current.extra)) ||
      String(entry.extra.fitted_at ?? '').localeCompare(String(current.extra.fitted_at ?? ''));
    if (better > 0) chosen.set(entry.concept_id, entry);
  }
  return [...chosen.values()];
}

/** All of a stream's bytes (stdin for `--params -`). */
async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/**
 * The form of a params file read from stdin, which has no extension: a JSON document (a fit
 * report or an array), else NDJSON when it starts with a JSON object, else CSV.
 */
function sniffParamsForm(text: string): '.json' | '.ndjson' | '.csv' {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return '.csv';
  try {
    const document = JSON.parse(text) as unknown;
    // One object that is not a fit report is a one-line NDJSON file of rows.
    return !Array.isArray(document) && typeof document === 'object' && document !== null && !('concepts' in document) ? '.ndjson' : '.json';
  } catch {
    return first === '{' ? '.ndjson' : '.json';
  }
}

/** A parameter-shaped file as text: where it came from, its text, and its form. */
export interface ParamsText {
  /** The path, or `stdin`: what messages name. */
  name: string;
  text: string;
  /** `.json`, `.ndjson`/`.jsonl`, `.csv` (or another extension, read as JSON): the extension, or for stdin the form its content shows. */
  form: string;
}

/**
 * The text of a parameter-shaped file (a params file, a fixed-parameters file): `path`, or stdin
 * for `-` (`io.stdin`, default process.stdin), gunzipped (a path by its .gz extension, stdin by
 * the gzip magic bytes), with its form. `io.file` names the kind of file in messages (default
 * `parameter file`), `io.option` the option that gave the path (default `params`).
 * @throws InputError naming the file (or stdin) when it cannot be read or its gzip data is corrupt.
 */
export async function readParamsText(path: string, io: { stdin?: NodeJS.ReadableStream; file?: string; option?: string } = {}): Promise<ParamsText> {
  const fromStdin = path === '-';
  let buffer: Buffer;
  try {
    buffer = fromStdin ? await readStream(io.stdin ?? process.stdin) : await readFile(path);
  } catch (error) {
    throw new InputError(`cannot read ${io.file ?? 'parameter file'} ${fromStdin ? 'from stdin' : path}: ${(error as Error).message}`, `Check the \`${io.option ?? 'params'}\` path`, error);
  }
  const name = fromStdin ? 'stdin' : path;
  const gz = fromStdin ? buffer[0] === 0x1f && buffer[1] === 0x8b : path.toLowerCase().endsWith('.gz');
  let text: string;
  try {
    text = (gz ? gunzipSync(buffer) : buffer).toString('utf8');
  } catch (error) {
    throw new InputError(`${name}: gzip data is corrupt or truncated (${(error as Error).message})`, 'Check the file, e.g. with gzip -t', error);
  }
  const form = fromStdin ? sniffParamsForm(text) : extname(gz ? path.slice(0, -3) : path).toLowerCase();
  return { name, text, form };
}

/**
 * Read a parameter file (JSON, NDJSON or CSV, optionally gzipped) into one entry per fitted
 * concept; `-` reads stdin (`io.stdin`, default process.stdin), gzipped or not, its form told from
 * its content. `io.option` is the option that gave the path (default `params`), for the hint of an
 * unreadable file. Skipped or failed concepts of a fit report are left out. Throws InputError naming
 * the file (or stdin) and line for anything unreadable, and when the file holds no parameters at all.
 */
export async function readParamsFile(path: string, io: { stdin?: NodeJS.ReadableStream; option?: string } = {}): Promise<ParamsFileEntry[]> {
  const { name, text, form: ext } = await readParamsText(path, io);
  // Messages below name the source: the path, or stdin.
  path = name;
  const entries: ParamsFileEntry[] = [];
  const push = (entry: ParamsFileEntry | null) => entry && entries.push(entry);

  if (ext === '.csv') {
    // Imported here: `import 'bkt'` and the commands that only write params files skip it.
    const { parse: parseCsvSync } = await import('csv-parse/sync');
    let rows: Record<string, string>[];
    try {
      rows = parseCsvSync(text, { columns: true, skip_empty_lines: true, bom: true });
    } catch (error) {
      throw new InputError(`${path}: not a readable CSV (${(error as Error).message})`, 'Write parameters with "bkt fit --out params.csv"');
    }
    rows.forEach((row, i) => push(entryFromRecord(row, path, `line ${i + 2}`)));
  } else if (ext === '.ndjson' || ext === '.jsonl') {
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line);
      } catch {
        throw new InputError(`${path} line ${i + 1}: not valid JSON`, 'Each line must be one JSON object');
      }
      push(entryFromRecord(record, path, `line ${i + 1}`));
    });
  } else {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new InputError(`${path}: not valid JSON (${(error as Error).message})`, 'Write parameters with "bkt fit --out params.json"');
    }
    const list = Array.isArray(document) ? document : (document as { concepts?: unknown }).concepts;
    if (!Array.isArray(list)) {
      throw new InputError(`${path}: no "concepts" array`, 'Expected the JSON that "bkt fit --out" writes, or an array of {concept_id, p_L0, p_T, p_S, p_G}');
    }
    const settings = (document as { settings?: unknown }).settings;
    list.forEach((record, i) => {
      const entry = entryFromRecord(record as Record<string, unknown>, path, `concept #${i + 1}`);
      if (entry && settings && typeof settings === 'object') entry.settings = settings as Record<string, unknown>;
      push(entry);
    });
  }
  const unique = oneEntryPerConcept(entries);
  if (unique.length === 0) {
    throw new InputError(`${path}: holds no fitted parameters`, 'Fit some first: bkt fit --input attempts.csv --out params.json');
  }
  return unique;
}
