/** The task queue of chunk imports: a worker of its own there holds region-concurrency exactly. */
export function chunkTaskQueue(taskQueue: string): string {
  return `${taskQueue}-chunks`;
}
