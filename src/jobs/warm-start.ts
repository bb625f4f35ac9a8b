import type { BktParams } from '../model/params.js';

/**
 * `--warm-start FILE`: the parameters of a params file (any form `bkt fit --out` writes or
 * `bkt export params` gives) by concept id, also under the UUID `bkt import` maps each id to, so a
 * file fitted on raw ids warm-starts a database fit. Throws InputError for an unreadable file.
 */
export async function warmStartsFromFile(path: string): Promise<(conceptId: string) => BktParams | undefined> {
  const { readParamsFile } = await import('../params-file.js');
  const { toUuid } = await import('../store/ids.js');
  const byId = new Map<string, BktParams>();
  for (const entry of await readParamsFile(path, { option: 'warmStart' })) {
    byId.set(entry.concept_id, entry.params);
    byId.set(toUuid(entry.concept_id), entry.params);
  }
  return (conceptId) => byId.get(conceptId);
}
