import type { Client } from '@temporalio/client';
import type { Pool } from 'mysql2/promise';
import { tableProgressQuery, taskStateQuery, type TableProgress, type TaskPhase } from '../../workflows/legacy/definitions';
import { readTaskPositions } from '../database/chunk-progress';
import { buildCheckpointModel } from './build-model';
import { lightningTaskId, type CheckpointModel } from './checkpoint-model';

export const tempestVersion = 'tempest-0.1.0';

/**
 * What each table not running answered when last asked. The answer changes only once the table
 * runs again, so a reader asking over and over (the keeper) asks it once per pause: a closed
 * workflow answers only after the worker replays its history.
 */
export type IdleTableAnswers = Map<string, TableProgress>;

/**
 * A task's checkpoint as it stands: statuses and chunk lists from its workflows' queries,
 * positions of unfinished chunks from the target's progress table (committed, so exact).
 */
export async function readTaskCheckpoint(
  client: Client,
  pool: Pool,
  taskInfoSchema: string,
  workflowId: string,
  idleAnswers?: IdleTableAnswers,
): Promise<{ model: CheckpointModel; phase: TaskPhase }> {
  const state = await client.workflow.getHandle(workflowId).query(taskStateQuery);
  const tableProgress = new Map<string, TableProgress>();
  await Promise.all(
    state.tables.map(async (table) => {
      let progress: TableProgress | undefined;
      if (!table.running && idleAnswers?.has(table.key)) progress = idleAnswers.get(table.key);
      else {
        progress = await client.workflow
          .getHandle(table.childWorkflowId)
          .query(tableProgressQuery)
          // Not started yet: no chunks to report.
          .catch(() => undefined);
        if (table.running) idleAnswers?.delete(table.key);
        else if (progress) idleAnswers?.set(table.key, progress);
      }
      if (progress) tableProgress.set(table.key, progress);
    }),
  );
  // Keyed by chunk key alone, as the 0.1 model reads them.
  const positions = await readTaskPositions(pool, taskInfoSchema, state.taskId);
  const live = new Map([...positions].map(([key, position]) => [key.slice(key.indexOf('\0') + 1), position]));
  const task = {
    taskId: lightningTaskId(state.taskId),
    sourceDir: state.sourceDir,
    backend: 'tidb',
    tidbHost: state.targetHost,
    tidbPort: state.targetPort,
    lightningVersion: tempestVersion,
  };
  return { model: buildCheckpointModel(task, state, tableProgress, live), phase: state.phase };
}
