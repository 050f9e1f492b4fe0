import fs from 'node:fs/promises';
import path from 'node:path';
import { compressionCode, sourceTypeCode, type CheckpointModel } from './checkpoint-model';

/** `--checkpoint-dump=DIR`: the checkpoint as tables.csv, engines.csv and chunks.csv, columns named as in the MySQL driver. */
export async function writeCheckpointDump(dir: string, model: CheckpointModel): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const tables = [['task_id', 'table_name', 'status', 'kv_kvs']];
  const engines = [['table_name', 'engine_id', 'status']];
  const chunks = [['table_name', 'engine_id', 'path', 'offset', 'type', 'compression', 'sort_key', 'file_size', 'end_offset', 'pos', 'kvc_kvs', 'timestamp']];
  for (const table of model.tables) {
    const rows = table.engines.flatMap((engine) => engine.chunks).reduce((sum, chunk) => sum + chunk.rows, 0);
    tables.push([model.task.taskId, table.key, String(table.status), String(rows)]);
    for (const engine of table.engines) {
      engines.push([table.key, String(engine.id), String(engine.status)]);
      for (const chunk of engine.chunks) {
        chunks.push([
          table.key,
          String(engine.id),
          chunk.path,
          String(chunk.offset),
          String(sourceTypeCode[chunk.type]),
          String(compressionCode[chunk.compression]),
          chunk.sortKey,
          String(chunk.fileSize),
          String(chunk.endOffset),
          String(chunk.pos),
          String(chunk.rows),
          String(chunk.timestamp),
        ]);
      }
    }
  }
  const written: string[] = [];
  for (const [name, rows] of [['tables.csv', tables], ['engines.csv', engines], ['chunks.csv', chunks]] as const) {
    const file = path.join(dir, name);
    await fs.writeFile(file, rows.map((row) => row.map(csvField).join(',')).join('\n') + '\n');
    written.push(file);
  }
  return written;
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
