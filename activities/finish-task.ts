import type { Pool } from 'mysql2/promise';
import type { ImportTaskResult } from '../workflows/definitions';
import { deleteTaskProgress } from './database/chunk-progress';
import { addBackTaskDeferredIndexes, forgetTaskDeferredIndexes } from './database/deferred-indexes';
import { quoteText } from './database/sql-text';
import { planTableName } from './plan/plan-tables';
import { countTables, readAllTableRecords } from './plan/table-queue';
import type { TaskSettings } from './task-types';

/** How many tables' verification notes a task's result lists. */
const listedNotes = 20;

/**
 * The end of a task: indexes of removed tables added back, the task's outcome read from its table
 * queue, and what only a running task needs (chunk positions, the chunk and file plan) deleted.
 * The table queue stays, so that `tempest status` of a finished task still lists every table.
 */
export async function finishTaskRecords(pool: Pool, settings: TaskSettings): Promise<ImportTaskResult> {
  await addBackTaskDeferredIndexes(pool, settings);
  const counts = await countTables(pool, settings);
  const notes: ImportTaskResult['notes'] = [];
  let checksummed = 0;
  for (const table of await readAllTableRecords(pool, settings, `state = 'finished'`)) {
    if (table.verify?.status === 'checksummed') checksummed++;
    if (table.verify?.note && notes.length < listedNotes) notes.push({ key: table.key, note: table.verify.note, failed: table.verify.note.includes('verification failed') });
  }
  await deleteTaskProgress(pool, settings.taskInfoSchema, settings.taskId);
  await forgetTaskDeferredIndexes(pool, settings);
  for (const table of ['chunk', 'file'] as const) {
    await pool.query(`DELETE FROM ${planTableName(settings.taskInfoSchema, table)} WHERE task_id = ${quoteText(settings.taskId)}`);
  }
  return { tables: counts.finished, rows: counts.finishedRows, checksummed, removed: counts.removed, notes };
}
