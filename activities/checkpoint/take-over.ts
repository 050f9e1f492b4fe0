import fs from 'node:fs';
import path from 'node:path';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { nonRetryable } from '../failures';
import { checksumOfFirst } from '../source/prefix-checksum';
import { openDataFile } from '../source/open-data-file';
import type { ChunkBoundaries } from '../source/plan-chunks';
import { readTableIdentityIfExists } from '../database/table-identity';
import { saveChunkProgressSql, type ChunkIdentity } from '../database/chunk-progress';
import { qualifiedName, quoteName, quoteText } from '../database/sql-text';
import type { TablePlan, TaskSettings } from '../task-types';
import type { CheckpointModel } from './checkpoint-model';
import { checkpointStore, type CheckpointDependencies } from './keep-checkpoint';
import { readCheckpointFile } from './file-driver';
import { readCheckpointTables } from './mysql-driver';

export interface TakeOverSummary {
  source: string;
  tables: number;
  chunks: number;
  rows: number;
  /** Split CSV files are cut as the old checkpoint cut them, so its positions apply. */
  chunkBoundaries: ChunkBoundaries;
}

/**
 * Starts a new task from an existing Lightning checkpoint (file or MySQL driver) of a logical
 * (`tidb` backend) run: each chunk's position becomes this task's committed progress, so finished
 * chunks are skipped and partly done ones resume where the checkpoint says. Refuses, rather than
 * skips, when the checkpoint does not describe these files.
 */
export async function takeOverCheckpoint(deps: CheckpointDependencies, settings: TaskSettings, tables: TablePlan[]): Promise<TakeOverSummary | undefined> {
  const store = checkpointStore(settings, deps);
  const model = store.driver === 'file' ? await readCheckpointFileIfPresent(store.path) : await readSchemaIfPresent(store.pool, store.schema);
  if (!model) return undefined;
  const source = store.driver === 'file' ? store.path : `schema ${store.schema}`;
  const remedy = takeOverRemedy(store.driver);
  const refusal = takeOverRefusal(model.task, settings.sourceDir, store.driver, source);
  if (refusal) throw nonRetryable('ConfigError', refusal);

  const summary: TakeOverSummary = { source, tables: 0, chunks: 0, rows: 0, chunkBoundaries: {} };
  for (const table of model.tables) {
    const plan = tables.find((candidate) => candidate.key === table.key);
    const chunks = table.engines.filter((engine) => engine.id >= 0).flatMap((engine) => engine.chunks);
    const started = chunks.filter((chunk) => chunk.pos > chunk.offset);
    if (!plan || started.length === 0) continue;
    const tableCreated = await readTableIdentityIfExists(deps.pool, plan.schema, plan.name);
    const [anyRow] = tableCreated === undefined ? [[]] : await deps.pool.query<RowDataPacket[]>(`SELECT 1 FROM ${qualifiedName(plan.schema, plan.name)} LIMIT 1`);
    if (tableCreated === undefined || anyRow.length === 0) {
      throw nonRetryable(
        'TargetChangedError',
        `the checkpoint in ${source} has rows imported into ${table.key}, which ${tableCreated === undefined ? 'does not exist' : 'is empty'} in the target: ` +
          `taking over would skip them. ${remedy}`,
      );
    }
    for (const chunk of chunks) {
      const file = plan.dataFiles.find((candidate) => candidate.path === chunk.path);
      if (!file) throw nonRetryable('ConfigError', `the checkpoint in ${source} lists ${chunk.path} for ${table.key}, which is not in the dump. ${remedy}`);
      if (file.size !== chunk.fileSize && chunk.fileSize > 0) {
        throw nonRetryable('SourceChangedError', `${chunk.path} is ${file.size} bytes but was ${chunk.fileSize} when the checkpoint in ${source} recorded it: its positions no longer apply. ${remedy}`);
      }
      const whole = chunk.offset === 0 && (chunk.endOffset <= 0 || chunk.endOffset >= file.size);
      if (!whole) (summary.chunkBoundaries[chunk.path] ??= []).push([chunk.offset, chunk.endOffset]);
    }
    for (const chunk of started) {
      const file = plan.dataFiles.find((candidate) => candidate.path === chunk.path)!;
      const opened = openDataFile(chunk.path, chunk.compression, chunk.offset, settings.readBlockSize);
      let prefixCrc: number | undefined;
      try {
        prefixCrc = await checksumOfFirst(opened.bytes, chunk.pos - chunk.offset);
      } finally {
        opened.close();
      }
      if (prefixCrc === undefined) throw nonRetryable('SourceChangedError', `${chunk.path} is shorter than the position ${chunk.pos} the checkpoint in ${source} recorded. ${remedy}`);
      const identity: ChunkIdentity = { taskId: settings.taskId, tableKey: table.key, path: chunk.path, offset: chunk.offset };
      // A compressed chunk's end_offset may be an estimate: it is read to its end (skipping the rows
      // before pos) rather than trusted as finished.
      const finished = chunk.compression === 'none' && chunk.endOffset > 0 && chunk.pos >= chunk.endOffset;
      await deps.pool.query(
        saveChunkProgressSql(
          settings.taskInfoSchema,
          identity,
          {
            pos: chunk.pos,
            rows: chunk.rows,
            // The rows written before are not ours to checksum: verification compares counts for this table.
            checksum: '0',
            checksumComplete: false,
            finished,
            fileSize: file.size,
            fileMtimeMs: file.mtimeMs,
            prefixCrc,
            tableCreated,
          },
          0,
        ),
      );
      summary.chunks++;
      summary.rows += chunk.rows;
    }
    summary.tables++;
  }
  return summary;
}

function takeOverRemedy(driver: 'file' | 'mysql'): string {
  return `Remove it${driver === 'file' ? '' : ' (DROP DATABASE)'} or point [checkpoint] dsn elsewhere to start afresh.`;
}

/**
 * Why a stored checkpoint (its task part) cannot be taken over by an import of `sourceDir`, with what
 * to do; undefined when it can. `source` names where it is stored, for the message.
 */
export function takeOverRefusal(task: Pick<CheckpointModel['task'], 'backend' | 'sourceDir'>, sourceDir: string, driver: 'file' | 'mysql', source: string): string | undefined {
  if (task.backend && task.backend !== 'tidb') {
    return `the checkpoint in ${source} is of a "${task.backend}" backend run; Tempest can take over only logical ("tidb") runs. ${takeOverRemedy(driver)}`;
  }
  if (task.sourceDir && path.resolve(task.sourceDir.replace(/^file:\/\//, '')) !== sourceDir) {
    return `the checkpoint in ${source} is of an import of ${task.sourceDir}, not of ${sourceDir}. ${takeOverRemedy(driver)}`;
  }
  return undefined;
}

/** The file driver's checkpoint, or undefined when there is no file. */
export async function readCheckpointFileIfPresent(file: string): Promise<CheckpointModel | undefined> {
  if (!fs.existsSync(file)) return undefined;
  try {
    return await readCheckpointFile(file);
  } catch (error) {
    throw nonRetryable('ConfigError', `${file} is not a Lightning checkpoint file (${(error as Error).message}); remove it or set [checkpoint] dsn to another path`);
  }
}

async function readSchemaIfPresent(pool: Pool, schema: string): Promise<CheckpointModel | undefined> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${quoteText(schema)} AND TABLE_NAME = 'task_v2'`,
  );
  if (rows.length === 0) return undefined;
  const [tasks] = await pool.query<RowDataPacket[]>(`SELECT 1 FROM ${quoteName(schema)}.task_v2`);
  return tasks.length === 0 ? undefined : readCheckpointTables(pool, schema);
}
