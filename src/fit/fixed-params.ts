import { InputError } from '../errors.js';
import type { BktParams } from '../model/params.js';
import { readParamsText } from '../params-file.js';

/** Keys a fixed-parameter record may use, with pyBKT's names beside ours. */
const KEY_TO_PARAM: Record<string, keyof BktParams> = {
  p_L0: 'p_L0',
  p_T: 'p_T',
  p_S: 'p_S',
  p_G: 'p_G',
  p_F: 'p_F',
  prior: 'p_L0',
  learns: 'p_T',
  slips: 'p_S',
  guesses: 'p_G',
  forgets: 'p_F',
};

function recordFixed(record: Record<string, unknown>, file: string, where: string): [string, Partial<BktParams>] | null {
  const conceptId = record.concept_id ?? record.skill_name;
  if (typeof conceptId !== 'string' && typeof conceptId !== 'number') {
    throw new InputError(`${file} ${where}: no concept_id`, 'Each row of a `fixedByConcept` file needs a concept_id and the parameters to hold, e.g. concept_id,p_G');
  }
  const source = (record.params && typeof record.params === 'object' ? record.params : record) as Record<string, unknown>;
  const fixed: Partial<BktParams> = {};
  for (const [key, param] of Object.entries(KEY_TO_PARAM)) {
    const raw = source[key];
    // An empty cell or null means "not fixed": one CSV can fix different parameters per concept.
    if (raw === undefined || raw === null || raw === '') continue;
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
    if (!(value >= 0 && value <= 1)) {
      throw new InputError(`${file} ${where}: column "${key}" is ${JSON.stringify(raw)}; expected a probability in [0, 1] or empty`, 'Fix the value, or leave it empty to fit that parameter');
    }
    fixed[param] = value;
  }
  return Object.keys(fixed).length === 0 ? null : [String(conceptId), fixed];
}

/**
 * Read a fixed-parameters file (`bkt fit --fix-from FILE`, the `fixedByConcept` trainer option's
 * values): per concept, the parameters to hold fixed while fitting it (pyBKT's
 * `fixed={skill: {param: value}}`). Read as parameter files are (readParamsText): `-` is stdin
 * (`io.stdin`, default process.stdin, its form told from its content), a .gz file is gunzipped.
 * Forms, by extension: CSV with a `concept_id` column and any of `p_L0, p_T, p_S, p_G, p_F` (an
 * empty cell = not fixed); NDJSON; or JSON: an array of such objects, or `{concepts: [...]}` as
 * `bkt fit --out` writes it (each concept's `params` then fixes all its parameters). pyBKT's names
 * (`prior`, `learns`, `guesses`, `slips`, `forgets`) and `skill_name` are accepted too.
 * Rows for concepts that are not in the data are ignored.
 * @throws InputError naming the file, line and column of anything unreadable.
 */
export async function readFixedParamsFile(path: string, io: { stdin?: NodeJS.ReadableStream } = {}): Promise<Record<string, Partial<BktParams>>> {
  const { name, text, form: ext } = await readParamsText(path, { stdin: io.stdin, file: '`fixedByConcept` file', option: 'fixedByConcept' });
  // Messages below name the source: the path, or stdin.
  path = name;
  const out: Record<string, Partial<BktParams>> = {};
  const add = (entry: [string, Partial<BktParams>] | null) => {
    if (entry) out[entry[0]] = { ...out[entry[0]], ...entry[1] };
  };
  if (ext === '.csv') {
    // Imported here: only a fit with a CSV fixed-parameters file pays for csv-parse.
    const { parse: parseCsvSync } = await import('csv-parse/sync');
    let rows: Record<string, string>[];
    try {
      rows = parseCsvSync(text, { columns: true, skip_empty_lines: true, bom: true });
    } catch (error) {
      throw new InputError(`${path}: not a readable CSV (${(error as Error).message})`, 'Write a header line such as concept_id,p_G,p_S');
    }
    rows.forEach((row, i) => add(recordFixed(row, path, `line ${i + 2}`)));
  } else if (ext === '.ndjson' || ext === '.jsonl') {
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        throw new InputError(`${path} line ${i + 1}: not valid JSON`, 'Each line must be one JSON object');
      }
      add(recordFixed(record as Record<string, unknown>, path, `line ${i + 1}`));
    });
  } else {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new InputError(`${path}: not valid JSON (${(error as Error).message})`, 'Give a JSON array of {concept_id, p_G, ...}, or a .csv file');
    }
    const list = Array.isArray(document) ? document : (document as { concepts?: unknown } | null)?.concepts;
    if (!Array.isArray(list)) throw new InputError(`${path}: no "concepts" array`, 'Give a JSON array of {concept_id, p_G, ...}');
    list.forEach((record, i) => {
      const r = record as Record<string, unknown>;
      // Skipped concepts of a fit report carry params: null; nothing to fix there.
      if (r && typeof r === 'object' && r.params === null) return;
      add(recordFixed(r, path, `concept #${i + 1}`));
    });
  }
  if (Object.keys(out).length === 0) {
    throw new InputError(`${path}: fixes no parameter`, 'Give rows such as concept_id,p_G with a value in [0, 1]');
  }
  return out;
}
