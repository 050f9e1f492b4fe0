import { decodeSource } from './charset';
import { readCsvHeader } from './csv-reader';
import { openDataFile } from './open-data-file';
import type { ChunkPlan, TaskSettings } from '../task-types';

/** The column names of a CSV file's header line (the file read from its start, decompressed and converted as its data). */
export async function readCsvHeaderColumns(path: string, compression: ChunkPlan['compression'], settings: TaskSettings): Promise<string[]> {
  const opened = openDataFile(path, compression, 0, settings.readBlockSize);
  try {
    const source = decodeSource(opened.bytes, { characterSet: settings.dataCharacterSet, replacement: settings.dataInvalidCharReplace, path, startOffset: 0 });
    return (await readCsvHeader(source.bytes, { path, csv: settings.csv })).columns;
  } finally {
    opened.close();
  }
}

/**
 * The column names of a CSV chunk's rows when reading starts at `readFrom`. A reader that starts
 * past the header never sees it: a resumed chunk, or a piece of a file cut without names (a
 * checkpoint taken over, a file planned whole). Without the names its values would map onto the
 * table's columns by position, into the wrong columns when the header's order is not the table's.
 */
export async function csvColumnsFrom(settings: TaskSettings, chunk: ChunkPlan, readFrom: number): Promise<string[] | undefined> {
  if (chunk.type !== 'csv' || !settings.csv.header || chunk.columns || readFrom === 0) return chunk.columns;
  return readCsvHeaderColumns(chunk.path, chunk.compression, settings);
}
