import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

export interface RecordedHistory {
  workflowId: string;
  runId: string;
  /** importTask, importTable or importEngine. */
  workflowType: string;
  history: temporal.api.history.v1.IHistory;
}

/** How long the list of a task's workflows may take to show every one of them (visibility lags the histories a little). */
const settleMs = 30_000;

/**
 * The full histories of a task and of every workflow it started (its tables' and their engines'),
 * every run of each (they continue as new), the task's first. The workflows are found by the
 * Temporal list API (a table's workflow id starts with its task's, an engine's with its table's);
 * the list is taken again until it holds every child and every next run that the histories name,
 * and each of them has closed, so no history is cut short.
 */
export async function fetchTaskHistories(client: Client, taskWorkflowId: string): Promise<RecordedHistory[]> {
  const deadline = Date.now() + settleMs;
  const fetched = new Map<string, RecordedHistory>();
  for (;;) {
    const listed: Array<{ workflowId: string; runId: string; workflowType: string; closed: boolean }> = [];
    for await (const execution of client.workflow.list({ query: `WorkflowId STARTS_WITH '${taskWorkflowId.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` })) {
      if (execution.workflowId !== taskWorkflowId && !execution.workflowId.startsWith(`${taskWorkflowId}/`)) continue;
      listed.push({ workflowId: execution.workflowId, runId: execution.runId, workflowType: execution.type, closed: execution.status.name !== 'RUNNING' });
    }
    for (const execution of listed) {
      const key = `${execution.workflowId}\0${execution.runId}`;
      if (fetched.has(key) || !execution.closed) continue;
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      fetched.set(key, { workflowId: execution.workflowId, runId: execution.runId, workflowType: execution.workflowType, history });
    }
    const missing = missingExecutions([...fetched.values()], listed);
    if (missing.length === 0 && listed.every((execution) => execution.closed)) {
      const ordered = listed.map((execution) => fetched.get(`${execution.workflowId}\0${execution.runId}`)!);
      // The task first, then the others in a stable order (by workflow id, each id's runs as they started).
      const start = (recorded: RecordedHistory) => Number(recorded.history.events?.[0]?.eventTime?.seconds ?? 0) * 1e9 + Number(recorded.history.events?.[0]?.eventTime?.nanos ?? 0);
      return ordered.sort((a, b) => {
        const taskFirst = Number(b.workflowId === taskWorkflowId) - Number(a.workflowId === taskWorkflowId);
        if (taskFirst !== 0) return taskFirst;
        if (a.workflowId !== b.workflowId) return a.workflowId < b.workflowId ? -1 : 1;
        return start(a) - start(b);
      });
    }
    if (Date.now() > deadline) {
      throw new Error(`the workflows of task ${taskWorkflowId} did not all show in the list and close within ${settleMs / 1000} s: ${missing.length ? `missing ${missing.join(', ')}` : 'some still run'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Children and next runs that the fetched histories name but the list does not hold yet. */
function missingExecutions(fetched: readonly RecordedHistory[], listed: ReadonlyArray<{ workflowId: string; runId: string }>): string[] {
  const missing: string[] = [];
  const listedIds = new Set(listed.map((execution) => execution.workflowId));
  const listedRuns = new Set(listed.map((execution) => execution.runId));
  for (const recorded of fetched) {
    for (const event of recorded.history.events ?? []) {
      const child = event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
      if (child && !listedIds.has(child)) missing.push(child);
      const nextRun = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      if (nextRun && !listedRuns.has(nextRun)) missing.push(`${recorded.workflowId} (run ${nextRun})`);
    }
  }
  return missing;
}
