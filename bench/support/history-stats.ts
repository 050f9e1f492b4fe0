import type { Client } from '@temporalio/client';

export interface HistoryStats {
  runs: number;
  /** The workflow run with the most events, and the one with the largest history. */
  longest: { workflowId: string; events: number };
  largest: { workflowId: string; bytes: number };
  /** The largest single payload (an input, result, heartbeat or signal) of any event of any run. */
  largestPayload: { workflowId: string; bytes: number; event: string };
}

/**
 * Every workflow run whose id starts with `prefix` (continued-as-new runs included, each its own
 * run): history length and size as the server counts them, and the largest payload in any event.
 */
export async function historyStats(client: Client, prefix: string): Promise<HistoryStats> {
  const stats: HistoryStats = { runs: 0, longest: { workflowId: '', events: 0 }, largest: { workflowId: '', bytes: 0 }, largestPayload: { workflowId: '', bytes: 0, event: '' } };
  for await (const run of client.workflow.list({ query: `WorkflowId STARTS_WITH '${prefix.replace(/'/g, "\\'")}'` })) {
    stats.runs++;
    if (run.historyLength > stats.longest.events) stats.longest = { workflowId: run.workflowId, events: run.historyLength };
    const bytes = run.historySize ?? 0;
    if (bytes > stats.largest.bytes) stats.largest = { workflowId: run.workflowId, bytes };
    const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    for (const event of history.events ?? []) {
      const bytes = largestPayloadIn(event);
      if (bytes > stats.largestPayload.bytes) stats.largestPayload = { workflowId: run.workflowId, bytes, event: String(event.eventType) };
    }
  }
  return stats;
}

/** The largest `payloads` list (its data bytes together) anywhere inside one history event. */
function largestPayloadIn(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  let largest = 0;
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'payloads' && Array.isArray(inner)) {
      const size = inner.reduce((sum: number, payload: { data?: Uint8Array | null }) => sum + (payload?.data?.length ?? 0), 0);
      largest = Math.max(largest, size);
    } else largest = Math.max(largest, largestPayloadIn(inner));
  }
  return largest;
}
