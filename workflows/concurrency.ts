/**
 * Runs `run` over `items`, at most `limit` at once, in the order of the list.
 * Deterministic: it uses only workflow promises.
 */
export async function forEachConcurrently<T>(items: readonly T[], limit: number, run: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await run(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}
