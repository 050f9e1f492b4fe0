import fs from 'node:fs/promises';
import { readCsvHeaderColumns } from './csv-header';
import { planParquetChunks } from './parquet-reader';
import type { DataFile } from './layout-types';
import { chunkKey } from '../checkpoint/checkpoint-model';
import type { ChunkPlan, TaskSettings } from '../task-types';

/** Chunks a checkpoint taken over already cut: file path → [offset, end offset] pairs. */
export type ChunkBoundaries = Record<string, Array<[number, number]>>;

/**
 * Cuts a table's data files into chunks. A file is one chunk, except a large uncompressed CSV file
 * under `strict-format` (no line terminator inside quoted fields), which is cut every
 * `max-region-size` bytes at the next line end so that its pieces import in parallel, and a
 * Parquet file, cut into runs of whole row groups (its chunks' offsets are row indexes).
 */
export async function planChunks(settings: TaskSettings, files: readonly DataFile[], boundaries: ChunkBoundaries = {}): Promise<ChunkPlan[]> {
  const chunks: ChunkPlan[] = [];
  for (const file of files) {
    const whole = { path: file.path, type: file.type, compression: file.compression, fileSize: file.size, mtimeMs: file.mtimeMs };
    const given = boundaries[file.path];
    if (given) {
      const columns = file.type === 'csv' && settings.csv.header ? await readCsvHeaderColumns(file.path, file.compression, settings) : undefined;
      for (const [offset, endOffset] of [...given].sort((a, b) => a[0] - b[0])) {
        chunks.push({ ...whole, key: chunkKey({ path: file.path, offset }), offset, endOffset, columns: offset === 0 ? undefined : columns });
      }
      continue;
    }
    if (file.type === 'parquet') {
      for (const [offset, endOffset] of await planParquetChunks(file, settings.maxRegionSize)) {
        chunks.push({ ...whole, key: chunkKey({ path: file.path, offset }), offset, endOffset });
      }
      continue;
    }
    const splittable = file.type === 'csv' && settings.strictFormat && file.compression === 'none' && file.size > settings.maxRegionSize;
    if (!splittable) {
      chunks.push({ ...whole, key: chunkKey({ path: file.path, offset: 0 }), offset: 0, endOffset: file.compression === 'none' ? file.size : -1 });
      continue;
    }
    const columns = settings.csv.header ? await readCsvHeaderColumns(file.path, file.compression, settings) : undefined;
    let offset = 0;
    while (offset < file.size) {
      const end = await nextLineEnd(file.path, offset + settings.maxRegionSize, file.size, settings.csv.terminator);
      chunks.push({ ...whole, key: chunkKey({ path: file.path, offset }), offset, endOffset: end, columns });
      offset = end;
    }
  }
  return chunks;
}

/** The offset just past the first line terminator at or after `from` (the file's size if none). */
async function nextLineEnd(path: string, from: number, size: number, terminator: string): Promise<number> {
  if (from >= size) return size;
  const handle = await fs.open(path, 'r');
  try {
    const block = Buffer.alloc(64 * 1024);
    let position = from;
    while (position < size) {
      const { bytesRead } = await handle.read(block, 0, block.length, position);
      if (bytesRead === 0) break;
      const view = block.subarray(0, bytesRead);
      if (terminator !== '') {
        const found = view.indexOf(terminator);
        // A terminator cut by the block edge is found by the next read, which starts a little earlier.
        if (found >= 0) return position + found + Buffer.byteLength(terminator);
        position += Math.max(1, bytesRead - Buffer.byteLength(terminator) + 1);
        continue;
      }
      for (let i = 0; i < view.length; i++) {
        if (view[i] === 0x0a) return position + i + 1;
        if (view[i] === 0x0d) {
          if (i + 1 < view.length) return position + i + (view[i + 1] === 0x0a ? 2 : 1);
          const next = Buffer.alloc(1);
          const { bytesRead: more } = await handle.read(next, 0, 1, position + i + 1);
          return position + i + (more === 1 && next[0] === 0x0a ? 2 : 1);
        }
      }
      position += bytesRead;
    }
    return size;
  } finally {
    await handle.close();
  }
}
