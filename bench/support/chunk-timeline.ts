import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** One chunk activity as Temporal recorded it: queued at `scheduled`, run by `worker` from `started` to `closed` (ms). */
export interface ChunkRun {
  scheduled: number;
  started: number;
  closed: number;
  worker: string;
}

export interface DispatchFigures {
  chunks: number;
  /** First chunk queued to last chunk done, seconds. */
  phaseSeconds: number;
  chunksPerSecond: number;
  /** Time from a chunk being queued to a worker starting it, ms. */
  queuedMs: { p50: number; p90: number; max: number };
  /** Slot-seconds a worker had a free slot while a chunk sat queued: time lost to dispatch. */
  idleWhileQueuedSlotSeconds: number;
  /** That, as a share of all slot time in the phase. */
  idleWhileQueuedShare: number;
}

const EventType = temporal.api.enums.v1.EventType;

function millis(time: temporal.api.history.v1.IHistoryEvent['eventTime']): number {
  return Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);
}

/** Every chunk activity of the task on `taskQueue` (its chunks run on `<task-queue>-chunks`), from the workflows' histories. */
export async function chunkRuns(client: Client, taskQueue: string): Promise<ChunkRun[]> {
  const runs: ChunkRun[] = [];
  for await (const execution of client.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const scheduled = new Map<number, number>();
    const started = new Map<number, { time: number; worker: string }>();
    for (const event of history.events ?? []) {
      const id = Number(event.eventId);
      if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && event.activityTaskScheduledEventAttributes?.taskQueue?.name === `${taskQueue}-chunks`) {
        scheduled.set(id, millis(event.eventTime));
      } else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
        const attributes = event.activityTaskStartedEventAttributes;
        started.set(Number(attributes?.scheduledEventId), { time: millis(event.eventTime), worker: attributes?.identity ?? '' });
      } else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const scheduledId = Number(event.activityTaskCompletedEventAttributes?.scheduledEventId);
        const queuedAt = scheduled.get(scheduledId);
        const start = started.get(scheduledId);
        if (queuedAt !== undefined && start) runs.push({ scheduled: queuedAt, started: start.time, closed: millis(event.eventTime), worker: start.worker });
      }
    }
  }
  return runs;
}

function percentile(sorted: readonly number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? 0;
}

/** How fast chunks went out to `workers` workers of `slotsPerWorker` slots each, and what waiting for dispatch cost. */
export function dispatchFigures(runs: readonly ChunkRun[], workers: number, slotsPerWorker: number): DispatchFigures {
  const begin = Math.min(...runs.map((run) => run.scheduled));
  const end = Math.max(...runs.map((run) => run.closed));
  // Sweep the phase: at each event, how many chunks wait and how many slots are free.
  const changes: { at: number; queued: number; running: number }[] = [];
  for (const run of runs) {
    changes.push({ at: run.scheduled, queued: 1, running: 0 }, { at: run.started, queued: -1, running: 1 }, { at: run.closed, queued: 0, running: -1 });
  }
  changes.sort((a, b) => a.at - b.at);
  const slots = workers * slotsPerWorker;
  let queued = 0;
  let running = 0;
  let idleWhileQueuedMs = 0;
  let previous = begin;
  for (const change of changes) {
    idleWhileQueuedMs += Math.min(Math.max(0, slots - running), queued) * (change.at - previous);
    queued += change.queued;
    running += change.running;
    previous = change.at;
  }
  const waits = runs.map((run) => run.started - run.scheduled).sort((a, b) => a - b);
  const phaseMs = Math.max(1, end - begin);
  return {
    chunks: runs.length,
    phaseSeconds: phaseMs / 1000,
    chunksPerSecond: runs.length / (phaseMs / 1000),
    queuedMs: { p50: percentile(waits, 0.5), p90: percentile(waits, 0.9), max: waits[waits.length - 1] ?? 0 },
    idleWhileQueuedSlotSeconds: idleWhileQueuedMs / 1000,
    idleWhileQueuedShare: idleWhileQueuedMs / (slots * phaseMs),
  };
}
