import type { TemporalSession } from './connect';

/** Temporal's enum values (TaskQueueKind NORMAL, TaskQueueType WORKFLOW): the proto package is not ours to import. */
const normalKind = 1;
const workflowQueue = 1;

/**
 * A live worker re-polls within its long poll (about a minute); the server keeps listing a gone
 * one for several minutes more, so only recent polls count.
 */
const livePollWithinMs = 90_000;

/** Whether any worker has lately polled the session's workflow task queue (one cheap RPC). */
export async function hasLiveWorker(temporal: TemporalSession): Promise<boolean> {
  const response = await temporal.client.workflowService.describeTaskQueue({
    namespace: temporal.namespace,
    taskQueue: { name: temporal.taskQueue, kind: normalKind },
    taskQueueType: workflowQueue,
  });
  const now = Date.now();
  return (response.pollers ?? []).some((poller) => {
    const seconds = Number(poller.lastAccessTime?.seconds ?? 0);
    return seconds === 0 || now - seconds * 1000 < livePollWithinMs;
  });
}
