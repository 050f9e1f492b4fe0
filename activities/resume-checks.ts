import fs from 'node:fs/promises';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { nonRetryable } from './failures';
import { checksumOfFirst } from './source/prefix-checksum';
import { openDataFile } from './source/open-data-file';
import type { ChunkProgress } from './database/chunk-progress';
import { qualifiedName } from './database/sql-text';
import { readTableIdentityIfExists } from './database/table-identity';
import type { ChunkInput } from './task-types';

/**
 * What binds a chunk's progress to its input and its target (LIGHTNING-COMPAT.md §8): a chunk
 * resumes only where the bytes already imported are unchanged and the rows written are still there.
 */

export interface SourceFileState {
  size: number;
  mtimeMs: number;
}

export async function statSource({ table, chunk }: ChunkInput): Promise<SourceFileState> {
  try {
    const stat = await fs.stat(chunk.path);
    return { size: stat.size, mtimeMs: Math.trunc(stat.mtimeMs) };
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw nonRetryable('SourceFormatError', `${table.key}: ${chunk.path}: byte offset ${chunk.offset}: cannot read the file (${reason}). Restore it, then resume the table.`, {
      path: chunk.path,
      offset: chunk.offset,
    });
  }
}

/** The target table's identity (its creation time): a table dropped and created again gets a new one. */
export async function readTableCreated(pool: Pool, { key, schema, name }: ChunkInput['table']): Promise<string> {
  const created = await readTableIdentityIfExists(pool, schema, name);
  if (created === undefined) throw nonRetryable('SchemaError', `${key}: the target table does not exist (was it dropped while importing?). Import it again from scratch with --checkpoint-error-destroy.`);
  return created;
}

/** A chunk not started yet: its plan must still describe the file, unless it is the whole file. */
export function ensurePlanHolds({ table, chunk }: ChunkInput, file: SourceFileState): void {
  if (file.size === chunk.fileSize && file.mtimeMs === chunk.mtimeMs) return;
  if (isWholeFile(chunk)) return;
  throw nonRetryable(
    'SourceChangedError',
    `${table.key}: ${chunk.path} changed (size ${chunk.fileSize} → ${file.size}) after it was cut into chunks at row boundaries; ` +
      `they no longer hold. Restore the file, or import the table again from scratch with --checkpoint-error-destroy.`,
    { path: chunk.path, offset: chunk.offset },
  );
}

export function isWholeFile(chunk: ChunkInput['chunk']): boolean {
  return chunk.offset === 0 && (chunk.endOffset < 0 || chunk.endOffset === chunk.fileSize);
}

/**
 * A chunk with committed rows: the target table must be the one they went into, and the file's
 * bytes before the position must be the ones imported (checked by CRC when the file changed).
 */
export async function ensureResumable(pool: Pool, input: ChunkInput, saved: ChunkProgress, file: SourceFileState, tableCreated: string, readBlockSize: number): Promise<void> {
  const { table, chunk } = input;
  const restart = `Import it again from scratch with: tempest ctl --checkpoint-error-destroy='${table.key}'`;
  if (saved.tableCreated !== tableCreated) {
    throw nonRetryable('TargetChangedError', `${table.key} was dropped and created again after ${saved.rows} rows were imported into it from ${chunk.path}; those rows are gone. ${restart}`);
  }
  if (saved.rows > 0) {
    const [rows] = await pool.query<RowDataPacket[]>(`SELECT 1 FROM ${qualifiedName(table.schema, table.name)} LIMIT 1`);
    if (rows.length === 0) throw nonRetryable('TargetChangedError', `${table.key} is empty although ${saved.rows} rows were imported into it from ${chunk.path} (was it truncated?). ${restart}`);
  }
  if (file.size === saved.fileSize && file.mtimeMs === saved.fileMtimeMs) return;
  const length = saved.pos - chunk.offset;
  const opened = openDataFile(chunk.path, chunk.compression, chunk.offset, readBlockSize);
  let crc: number | undefined;
  try {
    crc = await checksumOfFirst(opened.bytes, length);
  } finally {
    opened.close();
  }
  if (crc !== saved.prefixCrc) {
    throw nonRetryable(
      'SourceChangedError',
      `${table.key}: ${chunk.path} changed before byte offset ${saved.pos}, in the part already imported (${saved.rows} rows); resuming would mix old and new rows. ` +
        `Restore the original file, or: ${restart.replace(/^Import it/, 'import the table')}`,
      { path: chunk.path, offset: chunk.offset },
    );
  }
}
