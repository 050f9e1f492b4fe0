import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import Long from 'long';
import protobuf from 'protobufjs';
import { compressionCode, fromCode, sourceTypeCode, type CheckpointModel } from './checkpoint-model';

/** proto/checkpoints.proto, from the compiled file's place in dist/ or the sources. */
const protoFile = [path.resolve(__dirname, '../../../proto/checkpoints.proto'), path.resolve(__dirname, '../../proto/checkpoints.proto')].find(existsSync) as string;

let root: protobuf.Root | undefined;
function checkpointsType(): protobuf.Type {
  root ??= protobuf.loadSync(protoFile);
  return root.lookupType('tempest.checkpoints.CheckpointsModel');
}

/** The model as Lightning's file checkpoint (a protobuf `CheckpointsModel`). */
export function encodeCheckpoint(model: CheckpointModel): Uint8Array {
  const type = checkpointsType();
  const checkpoints: Record<string, unknown> = {};
  for (const table of model.tables) {
    const engines: Record<number, unknown> = {};
    for (const engine of table.engines) {
      const chunks: Record<string, unknown> = {};
      for (const chunk of engine.chunks) {
        chunks[`${chunk.path}:${chunk.offset}`] = {
          path: chunk.path,
          offset: Long.fromNumber(chunk.offset),
          endOffset: Long.fromNumber(chunk.endOffset),
          pos: Long.fromNumber(chunk.pos),
          kvcKvs: Long.fromNumber(chunk.rows, true),
          timestamp: Long.fromNumber(chunk.timestamp),
          type: sourceTypeCode[chunk.type],
          compression: compressionCode[chunk.compression],
          sortKey: chunk.sortKey,
          fileSize: Long.fromNumber(chunk.fileSize),
        };
      }
      engines[engine.id] = { status: engine.status, chunks };
    }
    const rows = table.engines.flatMap((engine) => engine.chunks).reduce((sum, chunk) => sum + chunk.rows, 0);
    checkpoints[table.key] = { status: table.status, engines, kvKvs: Long.fromNumber(rows, true) };
  }
  const message = type.fromObject({
    checkpoints,
    taskCheckpoint: {
      taskId: Long.fromString(model.task.taskId),
      sourceDir: model.task.sourceDir,
      backend: model.task.backend,
      tidbHost: model.task.tidbHost,
      tidbPort: model.task.tidbPort,
      lightningVer: model.task.lightningVersion,
    },
  });
  return type.encode(message).finish();
}

export function decodeCheckpoint(bytes: Uint8Array): CheckpointModel {
  const decoded = checkpointsType().toObject(checkpointsType().decode(bytes), { longs: String, defaults: true }) as {
    checkpoints: Record<string, { status: number; engines: Record<string, { status: number; chunks: Record<string, Record<string, string | number>> }> }>;
    taskCheckpoint?: Record<string, string | number>;
  };
  const task = decoded.taskCheckpoint ?? {};
  return {
    task: {
      taskId: String(task.taskId ?? '0'),
      sourceDir: String(task.sourceDir ?? ''),
      backend: String(task.backend ?? ''),
      tidbHost: String(task.tidbHost ?? ''),
      tidbPort: Number(task.tidbPort ?? 0),
      lightningVersion: String(task.lightningVer ?? ''),
    },
    tables: Object.entries(decoded.checkpoints).map(([key, table]) => ({
      key,
      status: table.status,
      engines: Object.entries(table.engines).map(([id, engine]) => ({
        id: Number(id),
        status: engine.status,
        chunks: Object.values(engine.chunks).map((chunk) => ({
          path: String(chunk.path),
          offset: Number(chunk.offset),
          endOffset: Number(chunk.endOffset),
          pos: Number(chunk.pos),
          rows: Number(chunk.kvcKvs),
          type: fromCode(sourceTypeCode, Number(chunk.type), 'source type'),
          compression: fromCode(compressionCode, Number(chunk.compression), 'compression'),
          fileSize: Number(chunk.fileSize),
          timestamp: Number(chunk.timestamp),
          sortKey: String(chunk.sortKey),
        })),
      })),
    })),
  };
}

/** Replaces the checkpoint file at once: readers see the old file or the new one, never half of one. */
export async function writeCheckpointFile(file: string, model: CheckpointModel): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.mkdir(path.dirname(file), { recursive: true });
  const handle = await fs.open(temporary, 'w');
  try {
    await handle.writeFile(encodeCheckpoint(model));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, file);
}

export async function readCheckpointFile(file: string): Promise<CheckpointModel> {
  return decodeCheckpoint(await fs.readFile(file));
}
