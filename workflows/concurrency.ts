/**
 * Runs `run` over `items`, at most `limit` at once, in order of the list. On the first failure no
 * new item starts; the ones running are awaited, then that failure is thrown.
 * Deterministic: it uses only workflow promises.
 */
export async function forEachConcurrently<T>(items: readonly T[], limit: number, run: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        await run(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure) throw failure.error;
}
