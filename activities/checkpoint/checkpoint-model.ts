import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Compression, DataFileType } from '../source/layout-types';

/**
 * A task's checkpoint in Lightning's terms (LIGHTNING-COMPAT.md §3-§5): what the file and MySQL
 * drivers store, what `--checkpoint-dump` prints, and what an import taking over from Lightning reads.
 * Tempest's logical import has one data engine per table, engine 0.
 */
export interface CheckpointModel {
  task: TaskCheckpoint;
  tables: TableCheckpoint[];
}

export interface TaskCheckpoint {
  /** Lightning's int64 task id (decimal text: it does not fit a JS number). */
  taskId: string;
  sourceDir: string;
  backend: string;
  tidbHost: string;
  tidbPort: number;
  lightningVersion: string;
}

export interface TableCheckpoint {
  /** `db`.`table` */
  key: string;
  status: number;
  engines: EngineCheckpoint[];
}

export interface EngineCheckpoint {
  id: number;
  status: number;
  chunks: ChunkCheckpoint[];
}

export interface ChunkCheckpoint {
  path: string;
  offset: number;
  endOffset: number;
  pos: number;
  /** Rows imported (Lightning's kvc_kvs counts KV pairs; in logical mode, rows). */
  rows: number;
  type: DataFileType;
  compression: Compression;
  fileSize: number;
  /** Modification time, seconds. */
  timestamp: number;
  sortKey: string;
}

/** Lightning's numbers for source types and compressions (its mydump package). */
export const sourceTypeCode: Record<DataFileType, number> = { sql: 3, csv: 4, parquet: 5 };
export const compressionCode: Record<Compression, number> = { none: 0, gzip: 1, zstd: 3, snappy: 6 };

/**
 * Lightning's index engine: every table whose chunks Lightning has planned has one (no chunks), in
 * the logical mode too. Lightning stops on a checkpoint whose table lacks it ("index engine
 * checkpoint not found"), so Tempest's checkpoints carry it beside its data engines.
 */
export const indexEngineId = -1;

/** The table's engines with Lightning's index engine added (when it has data engines), in `status`. */
export function withIndexEngine(engines: EngineCheckpoint[], status: number): EngineCheckpoint[] {
  if (engines.length === 0 || engines.some((engine) => engine.id === indexEngineId)) return engines;
  return [...engines, { id: indexEngineId, status, chunks: [] }];
}

export function chunkKey(chunk: Pick<ChunkCheckpoint, 'path' | 'offset'>): string {
  return `${chunk.path}:${chunk.offset}`;
}

export function fromCode<T extends string>(codes: Record<T, number>, code: number, what: string): T {
  const found = (Object.keys(codes) as T[]).find((name) => codes[name] === code);
  if (found === undefined) throw new Error(`unknown ${what} ${code} in the checkpoint`);
  return found;
}

/**
 * Lightning's task id is an int64 (its start time in nanoseconds). Tempest's is a workflow run id:
 * a UUIDv7 carries its start time in milliseconds in its first 48 bits, so that instant is used, in
 * Lightning's unit; any other run id gives 60 bits of its hash, so distinct tasks stay distinct.
 */
export function lightningTaskId(runId: string): string {
  const hex = runId.replace(/-/g, '').toLowerCase();
  if (/^[0-9a-f]{12}7/.test(hex)) return (BigInt('0x' + hex.slice(0, 12)) * 1_000_000n).toString();
  return BigInt('0x' + crypto.createHash('sha1').update(runId).digest('hex').slice(0, 15)).toString();
}

/**
 * The folder a checkpoint's `source_dir` names: Lightning writes it as a URL (`file:///…`), Tempest
 * as a path. Undefined for storage this machine cannot read as files (`s3://…`, `gcs://…`).
 */
export function checkpointSourceFolder(sourceDir: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(sourceDir)) return path.resolve(sourceDir);
  if (!/^file:/i.test(sourceDir)) return undefined;
  return fileURLToPath(sourceDir);
}

/** A chunk's file: Lightning records it relative to the source folder, Tempest as an absolute path. */
export function chunkFilePath(sourceFolder: string, chunkPath: string): string {
  return path.isAbsolute(chunkPath) ? chunkPath : path.resolve(sourceFolder, chunkPath);
}
