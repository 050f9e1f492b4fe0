/** Lightning's chunk key: `{path}:{offset}` (LIGHTNING-COMPAT.md §3). */
export function chunkKey(path: string, offset: number): string {
  return `${path}:${offset}`;
}
