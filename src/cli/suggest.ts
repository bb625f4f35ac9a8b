import levenshtein from 'fast-levenshtein';

/**
 * The candidate closest to `typed` by edit distance, when it is close enough to be a likely typo
 * (at most a third of the longer word, and at most 3 edits); null otherwise.
 */
export function closestName(typed: string, candidates: readonly string[]): string | null {
  let best: { name: string; distance: number } | null = null;
  for (const name of candidates) {
    const distance = levenshtein.get(typed.toLowerCase(), name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  if (!best) return null;
  const allowed = Math.min(3, Math.ceil(Math.max(typed.length, best.name.length) / 3));
  return best.distance <= allowed ? best.name : null;
}
