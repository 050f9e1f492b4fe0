import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { taskStateQuery } from '../../workflows/definitions';

export interface RecordedHistory {
  workflowId: string;
  history: temporal.api.history.v1.IHistory;
}

/** The full histories of a task and of each of its table workflows. */
export async function fetchTaskHistories(client: Client, workflowId: string): Promise<RecordedHistory[]> {
  const task = client.workflow.getHandle(workflowId);
  const state = await task.query(taskStateQuery);
  const ids = [workflowId, ...state.tables.map((table) => table.childWorkflowId)];
  return Promise.all(ids.map(async (id) => ({ workflowId: id, history: await client.workflow.getHandle(id).fetchHistory() })));
}
