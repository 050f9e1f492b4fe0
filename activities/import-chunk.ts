import type { Pool, ResultSetHeader } from 'mysql2/promise';
import { nonRetryable } from './failures';
import { ensurePlanHolds, ensureResumable, isWholeFile, readTableCreated, statSource } from './resume-checks';
import { PrefixChecksum } from './source/prefix-checksum';
import { readCsvRows } from './source/csv-reader';
import { openDataFile, UnsupportedCompressionError, type OpenedDataFile } from './source/open-data-file';
import { SourceFormatError, type SourceRow, type SourceValue } from './source/row';
import { readSqlRows } from './source/sql-reader';
import { readChunkProgress, saveChunkProgressSql, type ChunkIdentity, type ChunkProgress } from './target/chunk-progress';
import { checksumColumns, RowChecksummer, type ChecksumColumn } from './target/row-checksum';
import { qualifiedName, quoteBytes, quoteName } from './target/sql-text';
import { readTargetColumns, type TargetColumn } from './target/table-columns';
import { failedRowNumber, isDataError, isSchemaError, withoutValues } from './target/target-errors';
import type { ChunkHeartbeat, ChunkInput, ChunkResult } from './task-types';

export interface ChunkContext {
  pool: Pool;
  heartbeat(details: ChunkHeartbeat): void;
  /** Aborted when Temporal cancels the activity (or its worker is shutting down). */
  signal: AbortSignal;
}

/**
 * Imports one chunk: streams its rows, writes them in bounded batches, and commits each batch
 * together with the chunk's new position. Resumes from the committed position, so it can be
 * retried at any moment.
 */
export async function importChunk(context: ChunkContext, input: ChunkInput): Promise<ChunkResult> {
  const { settings, table, chunk } = input;
  const identity: ChunkIdentity = { taskId: settings.taskId, tableKey: table.key, path: chunk.path, offset: chunk.offset };
  const saved = await readChunkProgress(context.pool, settings.taskInfoSchema, identity);
  if (saved?.finished) return { rows: saved.rows, endOffset: saved.pos };

  const file = await statSource(input);
  const tableCreated = await readTableCreated(context.pool, table);
  if (saved) await ensureResumable(context.pool, input, saved, file, tableCreated, settings.readBlockSize);
  else ensurePlanHolds(input, file);
  const committed: ChunkProgress = {
    ...(saved ?? { pos: chunk.offset, rows: 0, checksum: '0', checksumComplete: true, duplicates: 0, finished: false, prefixCrc: 0 }),
    fileSize: file.size,
    fileMtimeMs: file.mtimeMs,
    tableCreated,
  };

  const columns = await readTargetColumns(context.pool, table.schema, table.name);
  let opened: OpenedDataFile;
  try {
    // A CSV row needs no context, so a resumed CSV chunk reads from its position; an SQL row needs
    // its INSERT statement's head, so SQL is read from the chunk's start and rows up to the position skipped.
    const readFrom = chunk.type === 'csv' ? committed.pos : chunk.offset;
    opened = openDataFile(chunk.path, chunk.compression, readFrom, settings.readBlockSize);
  } catch (error) {
    if (error instanceof UnsupportedCompressionError) throw nonRetryable('SourceFormatError', `${chunk.path}: ${error.message}`);
    throw error;
  }
  const prefix = new PrefixChecksum(opened.startOffset, opened.startOffset === committed.pos ? committed.prefixCrc : 0);
  const writer = new ChunkWriter(context, input, identity, columns, committed, prefix);
  // Progress counts bytes of this chunk's span on disk: compressed files are read from their start.
  const spanStart = chunk.compression === 'none' ? chunk.offset : 0;
  writer.diskBytesRead = () => opened.diskBytesRead() - spanStart;
  try {
    for await (const rows of readRows(input, prefix.observe(opened.bytes), opened.startOffset)) {
      for (const row of rows) {
        if (row.endOffset <= committed.pos) {
          // Skipped rows were imported before: hash past them, so no bytes pile up while skipping.
          prefix.at(row.endOffset);
          continue;
        }
        const committing = writer.add(row);
        if (committing) await committing;
      }
      context.heartbeat(writer.heartbeat());
      if (context.signal.aborted) throw context.signal.reason;
    }
    return await writer.finish();
  } catch (error) {
    // The rows before a malformed one are good: keep them, so a fixed file resumes right at the problem.
    if (error instanceof SourceFormatError) await writer.commitPending();
    throw describeFailure(error, input);
  } finally {
    opened.close();
  }
}

function readRows({ settings, chunk }: ChunkInput, bytes: AsyncIterable<Buffer>, startOffset: number): AsyncIterable<SourceRow[]> {
  switch (chunk.type) {
    case 'sql':
      return readSqlRows(bytes, { path: chunk.path });
    case 'csv':
      return readCsvRows(bytes, {
        path: chunk.path,
        csv: settings.csv,
        startOffset,
        // A whole file is read to its end, whatever its size now; a piece of one to its planned end.
        endOffset: isWholeFile(chunk) ? undefined : chunk.endOffset,
        columns: chunk.columns,
      });
    case 'parquet':
      throw nonRetryable('SourceFormatError', `${chunk.path}: Parquet files are not supported yet`);
  }
}

/** How one statement's column list maps onto the target table. */
interface ColumnMapping {
  insertHead: string;
  /** For each checksummed column, the index of its value in the row, or -1 when the row has none. */
  checksumSources: number[];
  valueCount: number;
}

class ChunkWriter {
  private readonly covered: ChecksumColumn[];
  /** Absent with `[post-restore] checksum = "off"`: nothing will compare it. */
  private readonly checksummer: RowChecksummer | undefined;
  private readonly insertable: TargetColumn[];
  private readonly mappings = new Map<readonly string[] | undefined, ColumnMapping>();
  private readonly verb: string;
  private readonly progress: ChunkProgress;
  private checksumSum: bigint;
  private batch: string[] = [];
  private batchBytes = 0;
  private batchMapping: ColumnMapping | undefined;
  private batchStartOffset: number;
  private batchRowEnds: number[] = [];
  private batchChecksum = 0;
  diskBytesRead: () => number = () => 0;

  constructor(
    private readonly context: ChunkContext,
    private readonly input: ChunkInput,
    private readonly identity: ChunkIdentity,
    columns: TargetColumn[],
    committed: ChunkProgress,
    private readonly prefix: PrefixChecksum,
  ) {
    this.covered = checksumColumns(columns).covered;
    this.checksummer = input.settings.checksum === 'off' ? undefined : new RowChecksummer(this.covered);
    this.insertable = columns.filter((column) => !column.generated);
    this.verb = { replace: 'REPLACE INTO', ignore: 'INSERT IGNORE INTO', error: 'INSERT INTO' }[input.settings.onDuplicate];
    this.progress = { ...committed };
    this.checksumSum = BigInt(committed.checksum);
    this.batchStartOffset = committed.pos;
  }

  /**
   * Adds a row to the batch; returns the commit to await when the batch is due, nothing otherwise
   * (no promise per row: this runs for every row imported).
   */
  add(row: SourceRow): Promise<void> | undefined {
    const mapping = this.mappingFor(row);
    if (this.batchMapping !== mapping && this.batch.length > 0) return this.flush(false).then(() => this.add(row));
    this.batchMapping = mapping;
    const text = renderRow(row.values);
    this.batch.push(text);
    this.batchBytes += text.length;
    this.batchRowEnds.push(row.endOffset);
    if (this.checksummer) {
      const sources = mapping.checksumSources;
      const crc = this.checksummer.checksum((index) => (sources[index] < 0 ? undefined : row.values[sources[index]]));
      if (crc === undefined) this.progress.checksumComplete = false;
      else this.batchChecksum += crc;
    }
    this.progress.pos = row.endOffset;
    if (this.batch.length >= this.input.settings.batchRows || this.batchBytes >= this.input.settings.batchBytes) return this.flush(false);
    return undefined;
  }

  async finish(): Promise<ChunkResult> {
    await this.flush(true);
    return { rows: this.progress.rows, endOffset: this.progress.pos };
  }

  async commitPending(): Promise<void> {
    await this.flush(false);
  }

  heartbeat(): ChunkHeartbeat {
    return { chunkKey: this.input.chunk.key, pos: this.progress.pos, rows: this.progress.rows, diskBytes: this.diskBytesRead() };
  }

  private mappingFor(row: SourceRow): ColumnMapping {
    const columns = this.input.chunk.type === 'csv' && !this.input.settings.csvHeaderSchemaMatch ? undefined : row.columns;
    let mapping = this.mappings.get(columns);
    if (!mapping) {
      mapping = this.createMapping(columns);
      this.mappings.set(columns, mapping);
    }
    if (row.values.length !== mapping.valueCount) {
      throw new SourceFormatError(
        this.input.chunk.path,
        this.progress.pos,
        `a row has ${row.values.length} values but ${columns ? 'its column list names' : `${this.input.table.key} has`} ${mapping.valueCount} columns`,
      );
    }
    return mapping;
  }

  private createMapping(columns: readonly string[] | undefined): ColumnMapping {
    const { table } = this.input;
    const names = columns ?? this.insertable.map((column) => column.name);
    const byName = new Map(this.insertable.map((column) => [column.name.toLowerCase(), column.name]));
    const targetNames = names.map((name) => {
      const target = byName.get(name.toLowerCase());
      if (!target) {
        throw nonRetryable('SchemaError', `${this.input.chunk.path}: column \`${name}\` is not a column of ${table.key} in the target. Add it to the target table or fix the file's column list.`);
      }
      return target;
    });
    const position = new Map(targetNames.map((name, index) => [name, index]));
    return {
      insertHead: `${this.verb} ${qualifiedName(table.schema, table.name)} (${targetNames.map(quoteName).join(',')}) VALUES `,
      checksumSources: this.covered.map(({ column }) => position.get(column.name) ?? -1),
      valueCount: names.length,
    };
  }

  /** Commits the batch and the chunk's position in one transaction: the heart of exactly-once. */
  private async flush(finished: boolean): Promise<void> {
    const rowCount = this.batch.length;
    if (rowCount === 0 && !finished) return;
    const next: ChunkProgress = {
      ...this.progress,
      prefixCrc: this.prefix.at(this.progress.pos),
      rows: this.progress.rows + rowCount,
      checksum: (this.checksumSum + BigInt(this.batchChecksum)).toString(),
      finished,
    };
    const statements = ['START TRANSACTION'];
    if (rowCount > 0 && this.batchMapping) statements.push(this.batchMapping.insertHead + this.batch.join(','));
    statements.push(saveChunkProgressSql(this.input.settings.taskInfoSchema, this.identity, next, rowCount), 'COMMIT');

    const connection = await this.context.pool.getConnection();
    let results: ResultSetHeader[];
    try {
      [results] = (await connection.query(statements.join(';\n'))) as unknown as [ResultSetHeader[]];
      connection.release();
    } catch (error) {
      // The transaction may be half-done on this session: closing it rolls it back.
      connection.destroy();
      throw this.describeBatchError(error);
    }
    if (rowCount > 0) next.duplicates += Math.abs(results[1].affectedRows - rowCount);
    Object.assign(this.progress, next);
    this.checksumSum = BigInt(next.checksum);
    this.batch = [];
    this.batchBytes = 0;
    this.batchChecksum = 0;
    this.batchRowEnds = [];
    this.batchStartOffset = this.progress.pos;
    this.context.heartbeat(this.heartbeat());
  }

  private describeBatchError(error: unknown): unknown {
    if (!isDataError(error) && !isSchemaError(error)) return error;
    const { table, chunk } = this.input;
    const message = withoutValues((error as Error).message);
    const rowNumber = failedRowNumber((error as Error).message);
    const rowEnd = rowNumber !== undefined ? this.batchRowEnds[rowNumber - 1] : undefined;
    const rowStart = rowNumber !== undefined && rowNumber > 1 ? this.batchRowEnds[rowNumber - 2] : this.batchStartOffset;
    const where = rowEnd !== undefined ? `the row at byte offset ${rowStart}–${rowEnd}` : `a row between byte offsets ${this.batchStartOffset} and ${this.progress.pos}`;
    return nonRetryable(
      isDataError(error) ? 'DataError' : 'SchemaError',
      `${table.key}: ${chunk.path}: the target rejected ${where}: ${message}. Rows before byte offset ${this.batchStartOffset} are imported; fix the file or the table, then resume.`,
      { table: table.key, path: chunk.path, offset: rowStart ?? this.batchStartOffset, errno: (error as { errno?: number }).errno },
    );
  }
}

function renderRow(values: readonly SourceValue[]): string {
  let text = '(';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) text += ',';
    text += value === null ? 'NULL' : typeof value === 'string' ? value : quoteBytes(value);
  }
  return text + ')';
}

function describeFailure(error: unknown, { table, chunk }: ChunkInput): unknown {
  if (error instanceof SourceFormatError) {
    return nonRetryable('SourceFormatError', `${table.key}: ${error.message}`, { table: table.key, path: error.path, offset: error.offset });
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || code === 'EACCES' || code === 'EISDIR') {
    return nonRetryable('SourceFormatError', `${table.key}: ${chunk.path}: cannot read the file (${code}: ${(error as Error).message}). Replace it with a readable copy, then resume.`, {
      table: table.key,
      path: chunk.path,
    });
  }
  return error;
}
