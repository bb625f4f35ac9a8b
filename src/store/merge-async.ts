/**
 * The items of several async iterables, each as soon as it is ready (no order between sources;
 * each source's own order kept). Each source is asked for its next item while this one is being
 * consumed, so the sources keep working. The first error stops the merge and every source.
 */
export async function* mergeAsyncIterables<T>(sources: readonly AsyncIterable<T>[]): AsyncIterable<T> {
  if (sources.length === 1) {
    yield* sources[0];
    return;
  }
  type Settled = { index: number; result?: IteratorResult<T>; error?: unknown };
  const iterators = sources.map((source) => source[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<Settled>>();
  const pull = (index: number) =>
    pending.set(
      index,
      iterators[index].next().then(
        (result) => ({ index, result }),
        (error: unknown) => ({ index, error }),
      ),
    );
  iterators.forEach((_, index) => pull(index));
  try {
    while (pending.size > 0) {
      const { index, result, error } = await Promise.race(pending.values());
      pending.delete(index);
      if (error !== undefined) throw error;
      if (result!.done) continue;
      pull(index);
      yield result!.value;
    }
  } finally {
    // Sources still running are stopped (a pending next() settles first; its error no longer matters).
    await Promise.allSettled([...pending.keys()].map((index) => iterators[index].return?.()));
  }
}
