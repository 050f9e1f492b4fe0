import fs from 'node:fs';
import path from 'node:path';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { nonRetryable } from '../failures';
import { checksumOfAll, checksumOfFirst } from '../source/prefix-checksum';
import { openDataFile } from '../source/open-data-file';
import type { ChunkBoundaries } from '../source/plan-chunks';
import { readTableIdentityIfExists } from '../database/table-identity';
import { saveChunkProgressSql, type ChunkIdentity } from '../database/chunk-progress';
import { qualifiedName, quoteName, quoteText } from '../database/sql-text';
import { ensureOverlapMarksTable, saveOverlapMarkSql, type OverlapMark } from '../database/overlap-marks';
import type { DataFile } from '../source/layout-types';
import type { TablePlan, TaskSettings } from '../task-types';
import { checkpointSourceFolder, chunkFilePath, type CheckpointModel, type ChunkCheckpoint } from './checkpoint-model';
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
  /** The table key of each file in chunkBoundaries. */
  tableOfPath: Record<string, string>;
}

/**
 * Starts a new task from an existing Lightning checkpoint (file or MySQL driver) of a logical
 * (`tidb` backend) run: each chunk's position becomes this task's committed progress, so finished
 * chunks are skipped and partly done ones resume where the checkpoint says. Refuses, rather than
 * skips, when the checkpoint does not describe these files.
 */
export async function takeOverCheckpoint(
  deps: CheckpointDependencies,
  settings: TaskSettings,
  findTable: (key: string) => Promise<TablePlan | undefined>,
): Promise<TakeOverSummary | undefined> {
  const store = checkpointStore(settings, deps);
  const model = store.driver === 'file' ? await readCheckpointFileIfPresent(store.path) : await readSchemaIfPresent(store.pool, store.schema);
  if (!model) return undefined;
  const source = store.driver === 'file' ? store.path : `schema ${store.schema}`;
  const remedy = takeOverRemedy(store.driver);
  const refusal = takeOverRefusal(model.task, settings.sourceDir, store.driver, source);
  if (refusal) throw nonRetryable('ConfigError', refusal);
  const sourceFolder = (model.task.sourceDir && checkpointSourceFolder(model.task.sourceDir)) || settings.sourceDir;

  const summary: TakeOverSummary = { source, tables: 0, chunks: 0, rows: 0, chunkBoundaries: {}, tableOfPath: {} };
  for (const table of model.tables) {
    const plan = await findTable(table.key);
    if (!plan) continue;
    const chunks = table.engines
      .filter((engine) => engine.id >= 0)
      .flatMap((engine) => engine.chunks)
      .map((chunk) => ({ ...chunk, path: chunkFilePath(sourceFolder, chunk.path) }));
    const started = chunks.filter((chunk) => chunk.pos > chunk.offset);
    const tableCreated = await readTableIdentityIfExists(deps.pool, plan.schema, plan.name);
    const [anyRow] = tableCreated === undefined ? [[]] : await deps.pool.query<RowDataPacket[]>(`SELECT 1 FROM ${qualifiedName(plan.schema, plan.name)} LIMIT 1`);
    if (tableCreated === undefined || anyRow.length === 0) {
      if (started.length === 0) continue;
      throw nonRetryable(
        'TargetChangedError',
        `the checkpoint in ${source} has rows imported into ${table.key}, which ${tableCreated === undefined ? 'does not exist' : 'is empty'} in the target: ` +
          `taking over would skip them. ${remedy}`,
      );
    }
    const files = new Map<string, DataFile>();
    for (const chunk of chunks) {
      const file = plan.dataFiles.find((candidate) => candidate.path === chunk.path);
      if (!file) throw nonRetryable('ConfigError', `the checkpoint in ${source} lists ${chunk.path} for ${table.key}, which is not in the dump. ${remedy}`);
      if (file.size !== chunk.fileSize && chunk.fileSize > 0) {
        throw nonRetryable('SourceChangedError', `${chunk.path} is ${file.size} bytes but was ${chunk.fileSize} when the checkpoint in ${source} recorded it: its positions no longer apply. ${remedy}`);
      }
      files.set(chunk.path, file);
      const whole = chunk.offset === 0 && (chunk.endOffset <= 0 || chunk.endOffset >= file.size);
      if (!whole) {
        (summary.chunkBoundaries[chunk.path] ??= []).push([chunk.offset, chunk.endOffset]);
        summary.tableOfPath[chunk.path] = table.key;
      }
    }
    // The target has rows of this table: those of the chunks not finished may go past their positions.
    const marks = await overlapMarks(deps.pool, plan, chunks, source);
    await ensureOverlapMarksTable(deps.pool, settings.taskInfoSchema);
    for (const chunk of chunks) {
      const mark = marks.get(chunk);
      if (chunk.pos <= chunk.offset && !mark) continue;
      const file = files.get(chunk.path)!;
      const opened = openDataFile(chunk.path, chunk.compression, chunk.offset, settings.readBlockSize);
      // A compressed chunk Lightning finished is at its end marker, not at a byte of the stream: its
      // position is where the stream ends.
      const toTheEnd = chunk.compression !== 'none' && isFinished(chunk);
      let prefix: { crc: number; length: number } | undefined;
      try {
        prefix = toTheEnd ? await checksumOfAll(opened.bytes) : await checksumOfFirst(opened.bytes, chunk.pos - chunk.offset).then((crc) => (crc === undefined ? undefined : { crc, length: chunk.pos - chunk.offset }));
      } finally {
        opened.close();
      }
      if (prefix === undefined) throw nonRetryable('SourceChangedError', `${chunk.path} is shorter than the position ${chunk.pos} the checkpoint in ${source} recorded. ${remedy}`);
      const prefixCrc = prefix.crc;
      const pos = chunk.offset + prefix.length;
      const identity: ChunkIdentity = { taskId: settings.taskId, tableKey: table.key, path: chunk.path, offset: chunk.offset };
      const progressSql = saveChunkProgressSql(
        settings.taskInfoSchema,
        identity,
        {
          pos,
          rows: chunk.rows,
          // The rows written before are not ours to checksum: verification compares counts for this table.
          checksum: '0',
          checksumComplete: false,
          finished: isFinished(chunk),
          fileSize: file.size,
          fileMtimeMs: file.mtimeMs,
          prefixCrc,
          tableCreated,
        },
        0,
      );
      await deps.pool.query(mark ? `START TRANSACTION; ${progressSql}; ${saveOverlapMarkSql(settings.taskInfoSchema, identity, mark)}; COMMIT` : progressSql);
      summary.chunks++;
      summary.rows += chunk.rows;
    }
    summary.tables++;
  }
  return summary;
}

/**
 * Lightning's end_offset of a compressed chunk, whose length it cannot know before reading it
 * (TableFileSizeINF, 10 TiB): it reads such a chunk to its end and then saves pos = end_offset.
 */
export const lightningUnknownEnd = 10 * 1024 ** 4;

/**
 * A compressed chunk's end_offset may otherwise be an estimate: such a chunk is read to its end
 * (skipping the rows before pos) rather than trusted as finished.
 */
function isFinished(chunk: ChunkCheckpoint): boolean {
  if (chunk.endOffset <= 0 || chunk.pos < chunk.endOffset) return false;
  return chunk.compression === 'none' || chunk.endOffset >= lightningUnknownEnd;
}

/**
 * Lightning commits a chunk's rows before it saves the position past them, so after a kill the
 * target can hold rows of its unfinished chunks beyond their positions. With a primary or unique
 * key they are found as the chunk is written again (replace semantics, from the position until a
 * row is new). Without one, the rows the target holds beyond what the checkpoint counts are
 * skipped, when a single unfinished chunk can hold them; otherwise no one can tell whose they are.
 */
async function overlapMarks(pool: Pool, plan: TablePlan, chunks: ChunkCheckpoint[], source: string): Promise<Map<ChunkCheckpoint, OverlapMark>> {
  const unfinished = chunks.filter((chunk) => !isFinished(chunk));
  const marks = new Map<ChunkCheckpoint, OverlapMark>();
  if (unfinished.length === 0) return marks;
  if (await hasUniqueKey(pool, plan)) {
    for (const chunk of unfinished) marks.set(chunk, { replacePastPos: true, skipRows: 0, rowsAlreadyIn: 0 });
    return marks;
  }
  const [counted] = await pool.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${qualifiedName(plan.schema, plan.name)}`);
  const inTarget = Number(counted[0].n);
  const recorded = chunks.reduce((sum, chunk) => sum + chunk.rows, 0);
  const refuse = (why: string) =>
    nonRetryable(
      'TargetChangedError',
      `${plan.key} has no primary or unique key, and ${why}. Empty the table (TRUNCATE) and remove its entry from the checkpoint in ${source} ` +
        `(tidb-lightning-ctl --checkpoint-remove='${plan.key}'), so that it is imported again from scratch.`,
      { table: plan.key },
    );
  if (inTarget < recorded) throw refuse(`the target holds ${inTarget} rows where the checkpoint says ${recorded} were imported`);
  const extra = inTarget - recorded;
  if (extra === 0) return marks;
  if (unfinished.length > 1) {
    const names = unfinished.slice(0, 3).map((chunk) => `${path.basename(chunk.path)}:${chunk.offset}`);
    throw refuse(
      `the target holds ${extra} rows past the positions the checkpoint saved, which any of its ${unfinished.length} unfinished chunks (${names.join(', ')}${unfinished.length > 3 ? ', …' : ''}) ` +
        'may have written: which rows are in cannot be told apart',
    );
  }
  marks.set(unfinished[0], { replacePastPos: false, skipRows: extra, rowsAlreadyIn: 0 });
  return marks;
}

async function hasUniqueKey(pool: Pool, table: TablePlan): Promise<boolean> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ${quoteText(table.schema)} AND TABLE_NAME = ${quoteText(table.name)} AND NON_UNIQUE = 0 LIMIT 1`,
  );
  return rows.length > 0;
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
  if (task.sourceDir && checkpointSourceFolder(task.sourceDir) !== sourceDir) {
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
