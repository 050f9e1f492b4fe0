import type { Pool, PoolConnection, ResultSetHeader } from 'mysql2/promise';
import { nonRetryable } from './failures';
import { writeBatchApart, type DivertedRows } from './isolate-rows';
import { ensurePlanHolds, ensureResumable, isWholeFile, readTableCreated, statSource } from './resume-checks';
import { PrefixChecksum } from './source/prefix-checksum';
import { readCsvRows } from './source/csv-reader';
import { csvColumnsFrom } from './source/csv-header';
import { decodeSource, type DecodedSource } from './source/charset';
import { openDataFile, type OpenedDataFile } from './source/open-data-file';
import { readParquetRows } from './source/parquet-reader';
import { SourceFormatError, type SourceRow } from './source/row';
import type { RowSink } from './source/row-sink';
import { readSqlRowsInto } from './source/sql-reader';
import { lockChunkProgress, readChunkProgress, saveChunkProgressSql, startChunkProgress, type ChunkIdentity, type ChunkProgress } from './database/chunk-progress';
import { isToleratedRowError, toleranceOf } from './database/error-records';
import { readOverlapMark, saveOverlapMarkSql, type OverlapMark } from './database/overlap-marks';
import { checksumColumns, RowChecksummer, type ChecksumColumn } from './database/row-checksum';
import { BatchEncoder, columnMapping, EncodingSink, type ColumnMapping } from './database/batch-encoder';
import { duplicatesIn, type InsertStatement } from './database/insert-statement';
import { isLocalInfileRefused, loadRows, usesLoadData, type LoadDataRows } from './database/load-data';
import { readTargetColumns, type TargetColumn } from './database/table-columns';
import { failedRowNumber, isDataError, isSchemaError, withoutValues } from './database/target-errors';
import type { ChunkHeartbeat, ChunkInput, ChunkResult } from './task-types';

export interface ChunkContext {
  pool: Pool;
  heartbeat(details: ChunkHeartbeat): void;
  /** Aborted when Temporal cancels the activity (or its worker is shutting down). */
  signal: AbortSignal;
  /**
   * What one activity importing many chunks of a table learns of it once (its identity and
   * columns), not once per chunk: two information_schema queries per tiny file were half its cost.
   */
  tableFacts?: Map<string, Promise<unknown>>;
}

function learnOnce<T>(context: ChunkContext, fact: string, learn: () => Promise<T>): Promise<T> {
  if (!context.tableFacts) return learn();
  let known = context.tableFacts.get(fact) as Promise<T> | undefined;
  if (!known) {
    known = learn();
    context.tableFacts.set(fact, known);
    known.catch(() => context.tableFacts?.delete(fact));
  }
  return known;
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
  const tableCreated = await learnOnce(context, `created ${table.key}`, () => readTableCreated(context.pool, table));
  try {
    if (saved) await ensureResumable(context.pool, input, saved, file, tableCreated, settings.readBlockSize);
    else ensurePlanHolds(input, file);
  } catch (error) {
    // Re-reading the imported part can meet damaged data too: that is the file's fault, not passing.
    throw describeFailure(error, input);
  }
  const committed: ChunkProgress = {
    ...(saved ?? { pos: chunk.offset, rows: 0, checksum: '0', checksumComplete: true, finished: false, prefixCrc: 0 }),
    fileSize: file.size,
    fileMtimeMs: file.mtimeMs,
    tableCreated,
  };
  // Every batch locks this row first (see lockChunkProgress): it must exist before the first one.
  if (!saved) await startChunkProgress(context.pool, settings.taskInfoSchema, identity, committed);
  // Only a chunk taken over from Lightning has one, and it has committed progress.
  const overlap = saved ? await readOverlapMark(context.pool, settings.taskInfoSchema, identity) : undefined;

  const columns = await learnOnce(context, `columns ${table.key}`, () => readTargetColumns(context.pool, table.schema, table.name));
  // A CSV row needs no context, so a resumed CSV chunk reads from its position (a Parquet one from
  // its row); an SQL row needs its INSERT statement's head, so SQL is read from the chunk's start
  // and rows up to the position skipped.
  const readFrom = chunk.type === 'sql' ? chunk.offset : committed.pos;
  // Parquet is read by row group, not as a byte stream: it opens none, so it keeps no prefix CRC.
  const opened: OpenedDataFile =
    chunk.type === 'parquet'
      ? { bytes: (async function* () {})(), startOffset: readFrom, diskBytesRead: () => 0, close: () => undefined }
      : openDataFile(chunk.path, chunk.compression, readFrom, settings.readBlockSize);
  const prefix = new PrefixChecksum(opened.startOffset, opened.startOffset === committed.pos ? committed.prefixCrc : 0);
  const source = decodeSource(prefix.observe(opened.bytes), {
    // Parquet strings are UTF-8 by the format's definition.
    characterSet: chunk.type === 'parquet' ? 'binary' : settings.dataCharacterSet,
    replacement: settings.dataInvalidCharReplace,
    path: chunk.path,
    startOffset: opened.startOffset,
    // A whole file is read to its end, whatever its size now; a piece of one to its planned end.
    endOffset: isWholeFile(chunk) ? undefined : chunk.endOffset,
  });
  const loadData = await usesLoadData(context.pool, settings.writeMethod ?? 'auto');
  const writer = new ChunkWriter(context, input, identity, columns, committed, prefix, loadData, overlap, (offset) => source.sourceOffset(offset));
  // Progress counts the bytes of this chunk's span on disk that are imported: up to the committed
  // position in a plain file; those read so far in a compressed one (read from its start, and its
  // positions are in the uncompressed stream); none in Parquet, whose positions are rows.
  writer.diskBytesDone = chunk.type === 'parquet' ? () => 0 : chunk.compression === 'none' ? (pos) => pos - chunk.offset : () => opened.diskBytesRead();
  try {
    const withColumns = { ...input, chunk: { ...chunk, columns: await csvColumnsFrom(settings, chunk, opened.startOffset) } };
    let lastHeartbeat = performance.now();
    for await (const rows of readRows(withColumns, source, opened.startOffset, writer)) {
      for (const row of rows) {
        const committing = writer.add(row);
        if (committing) await committing;
      }
      const committing = writer.takeDue();
      if (committing) await committing;
      // Every commit heartbeats too; in between, once a second is plenty (each call crosses into Temporal's native core).
      if (performance.now() - lastHeartbeat >= 1000) {
        context.heartbeat(writer.heartbeat());
        lastHeartbeat = performance.now();
      }
      if (context.signal.aborted) throw context.signal.reason;
    }
    return await writer.finish();
  } catch (error) {
    const failure = source.sourceError(error);
    // The rows before a malformed one are good: keep them, so a fixed file resumes right at the problem.
    if (failure instanceof SourceFormatError) await writer.commitPending();
    throw describeFailure(failure, input);
  } finally {
    opened.close();
  }
}

/** The chunk's rows, in groups; SQL rows go straight into `sink` as they are read, and their groups come empty. */
function readRows({ settings, chunk }: ChunkInput, source: DecodedSource, startOffset: number, sink: RowSink): AsyncIterable<SourceRow[]> {
  switch (chunk.type) {
    case 'sql':
      return turnsOf(readSqlRowsInto(source.bytes, { path: chunk.path }, sink));
    case 'csv':
      return readCsvRows(source.bytes, {
        path: chunk.path,
        csv: settings.csv,
        startOffset,
        endOffset: source.readerEndOffset,
        columns: chunk.columns,
      });
    case 'parquet':
      return readParquetRows(chunk.path, { startRow: startOffset, endRow: chunk.endOffset });
  }
}

/** An empty group after each one read into a sink: the loop's turn to await commits and heartbeat. */
async function* turnsOf(groups: AsyncIterable<unknown>): AsyncGenerator<SourceRow[]> {
  for await (const group of groups) {
    void group;
    yield [];
  }
}

/**
 * Builds a chunk's batches from its rows and commits each with the chunk's new position. SQL rows
 * come value by value (it is their reader's sink); the other formats' as SourceRow objects (`add`).
 */
class ChunkWriter extends EncodingSink {
  private readonly covered: ChecksumColumn[];
  /** Absent with `[post-restore] checksum = "off"`: nothing will compare it. */
  private readonly checksummer: RowChecksummer | undefined;
  protected readonly encoder: BatchEncoder;
  private readonly insertable: TargetColumn[];
  private readonly mappings = new Map<readonly string[] | undefined, ColumnMapping>();
  private readonly progress: ChunkProgress;
  /** Rows ending at or before this were imported by an earlier attempt. */
  private readonly resumePos: number;
  private checksumSum: bigint;
  private batchMapping: ColumnMapping | undefined;
  /** The column list the file gives the row being read, if any. */
  private rowColumns: readonly string[] | undefined;
  private batchStartOffset: number;
  private batchRowEnds: number[] = [];
  private batchChecksum = 0;
  /** Each row's CRC (-1: unknown), kept only when rows may be diverted to the error records: they leave the sum. */
  private batchRowCrcs: number[] | undefined;
  /** Rows read whose CRC is unknown; an incomplete committed part counts as one. */
  private uncheckedRows: number;
  /** What the rows diverted to the error records so far took from the rows read. */
  private diverted: DivertedRows = { checksum: 0n, unchecked: 0 };
  /** The batch being committed, if any. */
  private committing: Promise<void> = Promise.resolve();
  /** Batches that fell due while a reader fed rows in: the reader's consumer awaits them (takeDue). */
  private due: Promise<void> | undefined;
  /** The target will not take LOAD DATA LOCAL: the rest goes as INSERTs. */
  private loadRefused = false;
  /** The batch being built is sent once it holds this many bytes (see fullBatchBytes). */
  private sendAtBytes: number;
  diskBytesDone: (committedPos: number) => number = () => 0;
  /** The progress of the last batch committed. */
  private committedProgress: ChunkProgress;

  constructor(
    private readonly context: ChunkContext,
    private readonly input: ChunkInput,
    private readonly identity: ChunkIdentity,
    columns: TargetColumn[],
    committed: ChunkProgress,
    private readonly prefix: PrefixChecksum,
    private readonly loadData: boolean,
    /** What a chunk taken over from Lightning may find already in past its position (see OverlapMark); settled as batches commit. */
    private readonly overlap: OverlapMark | undefined,
    /** Where an offset in the reader's bytes is in the file (they differ when the file is transcoded). */
    private readonly sourceOffset: (readerOffset: number) => number,
  ) {
    super();
    this.covered = checksumColumns(columns).covered;
    this.checksummer = input.settings.checksum === 'off' ? undefined : new RowChecksummer(this.covered);
    // Room for a usual batch at once (it grows for more): a huge batch size is no reason to reserve it all up front.
    this.encoder = new BatchEncoder(this.checksummer, Math.min(this.fullBatchBytes() + 64 * 1024, 8 * 1024 * 1024));
    this.sendAtBytes = Math.min(FIRST_BATCH_BYTES, this.fullBatchBytes());
    this.insertable = columns.filter((column) => !column.generated);
    this.progress = { ...committed };
    this.committedProgress = committed;
    this.resumePos = committed.pos;
    this.checksumSum = BigInt(committed.checksum);
    this.batchStartOffset = committed.pos;
    this.uncheckedRows = committed.checksumComplete ? 0 : 1;
    if (this.checksummer && (toleranceOf(input.settings, 'type') > 0 || toleranceOf(input.settings, 'conflict') > 0)) this.batchRowCrcs = [];
  }

  /**
   * Adds a row read as a SourceRow; returns the commit to await when a batch fell due, nothing
   * otherwise (no promise per row: this runs for every row imported).
   */
  add(row: SourceRow): Promise<void> | undefined {
    this.addRow(row);
    return this.takeDue();
  }

  /** The commits of batches that fell due since the last call, to await before reading on. */
  takeDue(): Promise<void> | undefined {
    const due = this.due;
    this.due = undefined;
    return due;
  }

  startRow(rowColumns: readonly string[] | undefined): void {
    // A CSV header names the values' columns only with header-schema-match.
    const columns = this.input.chunk.type === 'csv' && !this.input.settings.csvHeaderSchemaMatch ? undefined : rowColumns;
    const mapping = this.mappingFor(columns);
    if (this.batchMapping !== mapping && this.encoder.rowCount > 0) this.flushDue();
    this.batchMapping = mapping;
    this.rowColumns = columns;
    this.encoder.startRow(mapping, this.loadData && !this.loadRefused && !this.replacingOverlap());
  }

  endRow(readerEndOffset: number): void {
    const mapping = this.batchMapping!;
    if (this.encoder.values !== mapping.valueCount) {
      this.encoder.abandonRow();
      throw new SourceFormatError(
        this.input.chunk.path,
        this.progress.pos,
        `a row has ${this.encoder.values} values but ${this.rowColumns ? 'its column list names' : `${this.input.table.key} has`} ${mapping.valueCount} columns`,
      );
    }
    const endOffset = this.sourceOffset(readerEndOffset);
    if (endOffset <= this.resumePos) {
      // Imported before: hash past it, so no bytes pile up while skipping.
      this.encoder.dropRow();
      this.prefix.at(endOffset);
      return;
    }
    if (this.overlap && this.overlap.skipRows > 0) {
      // Lightning wrote it after the position it saved (a table without keys: see take-over).
      this.encoder.dropRow();
      this.prefix.at(endOffset);
      this.overlap.skipRows--;
      this.overlap.rowsAlreadyIn++;
      this.progress.pos = endOffset;
      this.progress.rows++;
      return;
    }
    const crc = this.encoder.endRow();
    this.batchRowEnds.push(endOffset);
    if (this.checksummer) {
      if (crc === undefined) this.uncheckedRows++;
      else this.batchChecksum += crc;
      this.batchRowCrcs?.push(crc ?? -1);
    }
    this.progress.pos = endOffset;
    if (this.batchRowEnds.length >= this.input.settings.batchRows || this.encoder.bytes >= this.sendAtBytes) this.flushDue();
  }

  /** Seals the batch now; its commit is awaited by whoever takes what is due. */
  private flushDue(): void {
    const flushing = this.flush(false);
    const due = this.due ? Promise.all([this.due, flushing]).then(() => undefined) : flushing;
    // Awaited by the reader's consumer; until then (or if it stops at an error first) it is not unhandled.
    due.catch(() => undefined);
    this.due = due;
  }

  async finish(): Promise<ChunkResult> {
    if (this.overlap && this.overlap.skipRows > 0) {
      const { table, chunk } = this.input;
      throw nonRetryable(
        'TargetChangedError',
        `${table.key}: ${chunk.path} has ${this.overlap.skipRows} rows fewer past byte offset ${this.resumePos} than the target holds beyond the checkpoint taken over; ` +
          `the table has rows from elsewhere. Import it again from scratch with: tempest ctl --checkpoint-error-destroy='${table.key}'`,
        { table: table.key, path: chunk.path, offset: this.resumePos },
      );
    }
    await this.flush(true);
    await this.committing;
    return { rows: this.progress.rows, endOffset: this.progress.pos };
  }

  /** Commits the rows read so far (those before a malformed one, say) and waits for it. */
  async commitPending(): Promise<void> {
    await this.flush(false);
    await this.committing;
  }

  /**
   * `logical-import-batch-size`, or by default larger batches for LOAD DATA (streamed: a batch is no
   * packet, and each costs a transaction) than for an INSERT (one packet: it must stay well under
   * the target's max_allowed_packet). A chunk's first batch is small and each next one twice as
   * large, up to this: the target starts on the rows at once, and learns early whether it takes
   * LOAD DATA at all.
   */
  private fullBatchBytes(): number {
    return this.input.settings.batchBytes ?? (this.loadData && !this.loadRefused ? LOAD_DATA_BATCH_BYTES : INSERT_BATCH_BYTES);
  }

  /** What is committed: progress never shows rows that a crash could take back. */
  heartbeat(): ChunkHeartbeat {
    const { pos, rows } = this.committedProgress;
    return { chunkKey: this.input.chunk.key, pos, rows, diskBytes: this.diskBytesDone(pos) };
  }

  private mappingFor(columns: readonly string[] | undefined): ColumnMapping {
    let mapping = this.mappings.get(columns);
    if (!mapping) {
      mapping = this.createMapping(columns);
      this.mappings.set(columns, mapping);
    }
    return mapping;
  }

  private createMapping(columns: readonly string[] | undefined): ColumnMapping {
    const { table, chunk, settings } = this.input;
    const names = columns ?? this.insertable.map((column) => column.name);
    const byName = new Map(this.insertable.map((column) => [column.name.toLowerCase(), column]));
    const targets = names.map((name) => {
      const target = byName.get(name.toLowerCase());
      if (!target) {
        throw nonRetryable('SchemaError', `${chunk.path}: column \`${name}\` is not a column of ${table.key} in the target. Add it to the target table or fix the file's column list.`);
      }
      return target;
    });
    const replacing = this.replacingOverlap();
    return columnMapping(table, targets, this.covered, replacing ? 'replace' : settings.onDuplicate, this.loadData && !replacing);
  }

  /** Rows from here on may already be in (see OverlapMark): they go as INSERTs that replace in place. */
  private replacingOverlap(): boolean {
    return this.overlap?.replacePastPos === true;
  }

  /**
   * Sends the batch, with the chunk's new position, as one transaction: the heart of exactly-once.
   * The next batch is read while this one commits; batches still commit one after the other, in order.
   */
  private async flush(finished: boolean): Promise<void> {
    const rowCount = this.batchRowEnds.length;
    if (rowCount === 0 && !finished) return;
    this.checksumSum += BigInt(this.batchChecksum);
    Object.assign(this.progress, {
      prefixCrc: this.prefix.at(this.progress.pos),
      rows: this.progress.rows + rowCount,
      checksum: this.checksumSum.toString(),
      finished,
    });
    const encoded = this.encoder.take();
    this.sendAtBytes = Math.min(this.sendAtBytes * 2, this.fullBatchBytes());
    const batch: SentBatch = {
      replacing: this.replacingOverlap(),
      insert: this.batchMapping?.insert,
      rows: encoded.rows,
      load: encoded.load && this.batchMapping?.load && { sql: this.batchMapping.load.sql, rows: encoded.load },
      rowCrcs: this.batchRowCrcs ?? [],
      uncheckedRows: this.uncheckedRows,
      progress: { ...this.progress },
      startOffset: this.batchStartOffset,
      endOffset: this.progress.pos,
      rowEnds: this.batchRowEnds,
    };
    this.batchChecksum = 0;
    this.batchRowEnds = [];
    if (this.batchRowCrcs) this.batchRowCrcs = [];
    this.batchStartOffset = this.progress.pos;

    // Chained, not awaited first: batches sealed back to back by a reader's sink still commit one after the other, in order.
    const previous = this.committing;
    this.committing = previous.then(() => this.commit(batch));
    // A failed commit surfaces at the next flush or at the end; until then it is not unhandled.
    this.committing.catch(() => undefined);
    await previous;
  }

  private async commit(batch: SentBatch): Promise<void> {
    // Set now, not at flush: an earlier batch may have diverted rows (and their CRCs) since.
    if (this.diverted.checksum > 0n) batch.progress.checksum = (BigInt(batch.progress.checksum) - this.diverted.checksum).toString();
    batch.uncheckedRows -= this.diverted.unchecked;
    batch.progress.checksumComplete = batch.uncheckedRows === 0;
    const loaded = batch.load?.rows;
    const connection = await this.context.pool.getConnection();
    try {
      await this.begin(connection, batch.startOffset);
      let duplicates = 0;
      let inserted: ResultSetHeader | undefined;
      if (batch.load && !(await this.loaded(connection, batch.load))) {
        // The target did not store the rows as an INSERT would have: undo, and send them as one.
        await connection.query('ROLLBACK');
        await this.begin(connection, batch.startOffset);
        batch.rows = batch.load.rows.insertRows().rows;
        batch.load = undefined;
      }
      if (!batch.load && batch.insert && batch.rows.length > 0) {
        const [result] = await connection.query<ResultSetHeader>(batch.insert.for(batch.rows));
        inserted = result;
        duplicates = duplicatesIn(result, batch.rows.length, batch.replacing ? 'replace' : this.input.settings.onDuplicate);
      }
      let overlapSql = '';
      if (this.overlap) {
        const alreadyIn = this.settleOverlap(batch, inserted, duplicates);
        // Rows Lightning had written are no duplicates of the source: verification must not count them out.
        if (alreadyIn !== undefined) duplicates = 0;
        overlapSql = `${saveOverlapMarkSql(this.input.settings.taskInfoSchema, this.identity, this.overlap)};\n`;
      }
      await connection.query(`${overlapSql}${saveChunkProgressSql(this.input.settings.taskInfoSchema, this.identity, batch.progress, duplicates)};\nCOMMIT`);
      connection.release();
    } catch (error) {
      // The transaction may be half-done on this session: closing it rolls it back.
      connection.destroy();
      const { insert } = batch;
      if (!insert || !isToleratedRowError(this.input.settings, error)) throw this.describeBatchError(error, batch);
      const diverted = await writeBatchApart(
        {
          pool: this.context.pool,
          signal: this.context.signal,
          input: this.input,
          identity: this.identity,
          begin: this.begin.bind(this),
          heartbeat: () => this.context.heartbeat(this.heartbeat()),
        },
        // A batch that failed as LOAD DATA is isolated as the INSERT it stands for.
        { ...batch, insert, rows: batch.load ? batch.load.rows.insertRows().rows : batch.rows },
      );
      this.diverted = { checksum: this.diverted.checksum + diverted.checksum, unchecked: this.diverted.unchecked + diverted.unchecked };
    }
    if (loaded) this.encoder.recycle(loaded);
    this.committedProgress = batch.progress;
    this.context.heartbeat(this.heartbeat());
  }

  /**
   * Moves the overlap mark past `batch` and returns how many of its rows were already in (undefined:
   * the batch was not written over the overlap). The rows a statement inserted are its affected
   * rows less two for each row it changed (`changed`: the "Duplicates" it reports; a row met
   * unchanged, as Lightning's rows are, counts 0). A batch of which every row was in continues the
   * overlap; the first new row ends it (Lightning wrote the chunk's rows in file order), and the
   * rest go as configured.
   */
  private settleOverlap(batch: SentBatch, result: ResultSetHeader | undefined, changed: number): number | undefined {
    const mark = this.overlap!;
    if (!batch.replacing || !mark.replacePastPos || !result) return undefined;
    const alreadyIn = batch.rowEnds.length - (result.affectedRows - 2 * changed);
    mark.rowsAlreadyIn += alreadyIn;
    if (alreadyIn < batch.rowEnds.length) {
      mark.replacePastPos = false;
      this.mappings.clear();
    }
    return alreadyIn;
  }

  /** Sends the batch as LOAD DATA; false when it must go as an INSERT instead (the transaction then holds a partial load). */
  private async loaded(connection: PoolConnection, load: LoadedBatch): Promise<boolean> {
    if (this.loadRefused) return false;
    try {
      return await loadRows(connection, load.sql, load.rows);
    } catch (error) {
      if (isLocalInfileRefused(error)) {
        this.loadRefused = true;
        return false;
      }
      // The INSERT meets the same problem and says which row it is.
      if (isDataError(error) || isSchemaError(error)) return false;
      throw error;
    }
  }

  /** Opens a batch's transaction; a zombie attempt of the chunk (see lockChunkProgress) stops here. */
  private async begin(connection: PoolConnection, startOffset: number): Promise<void> {
    if (!(await lockChunkProgress(connection, this.input.settings.taskInfoSchema, this.identity, startOffset))) {
      throw new SupersededAttemptError(this.input.chunk.key);
    }
  }

  private describeBatchError(error: unknown, batch: SentBatch): unknown {
    if (!isDataError(error) && !isSchemaError(error)) return error;
    const { table, chunk } = this.input;
    const message = withoutValues((error as Error).message);
    const rowNumber = failedRowNumber((error as Error).message);
    const rowEnd = rowNumber !== undefined ? batch.rowEnds[rowNumber - 1] : undefined;
    const rowStart = rowNumber !== undefined && rowNumber > 1 ? batch.rowEnds[rowNumber - 2] : batch.startOffset;
    // A Parquet chunk's offsets are row indexes of the file (its row's index + 1 where it ends).
    const byRow = chunk.type === 'parquet';
    const where =
      rowEnd !== undefined
        ? byRow
          ? `row ${rowStart} of the file`
          : `the row at byte offset ${rowStart}–${rowEnd}`
        : byRow
          ? `a row of rows ${batch.startOffset} to ${batch.endOffset - 1} of the file`
          : `a row between byte offsets ${batch.startOffset} and ${batch.endOffset}`;
    const before = byRow ? `row ${batch.startOffset} of the file` : `byte offset ${batch.startOffset}`;
    return nonRetryable(
      isDataError(error) ? 'DataError' : 'SchemaError',
      `${table.key}: ${chunk.path}: the target rejected ${where}: ${message}. Rows before ${before} are imported; fix the file or the table, then resume.`,
      { table: table.key, path: chunk.path, offset: rowStart ?? batch.startOffset, errno: (error as { errno?: number }).errno },
    );
  }
}

const FIRST_BATCH_BYTES = 64 * 1024;
const LOAD_DATA_BATCH_BYTES = 4 * 1024 * 1024;
export const INSERT_BATCH_BYTES = 1024 * 1024;

/**
 * Another attempt of this chunk moved its position: this one (left running by a worker Temporal
 * gave up on) stops without writing. Retryable: a new attempt reads the position afresh.
 */
class SupersededAttemptError extends Error {
  constructor(chunkKey: string) {
    super(`${chunkKey}: another attempt of this chunk advanced it; this attempt stops without writing`);
    this.name = 'SupersededAttemptError';
  }
}

/** A batch on its way to the target, with what locates its rows in the file. */
interface SentBatch {
  /** Written with replace semantics over rows that may already be in (see OverlapMark). */
  replacing: boolean;
  /** The table's INSERT (none when no row was ever read). */
  insert: InsertStatement | undefined;
  /** The rows as INSERT text (empty while the batch goes as LOAD DATA). */
  rows: string[];
  load: LoadedBatch | undefined;
  rowCrcs: number[];
  uncheckedRows: number;
  /** The chunk's progress once the batch is in. */
  progress: ChunkProgress;
  startOffset: number;
  endOffset: number;
  /** Where each row of the batch ends, for messages about one of them. */
  rowEnds: number[];
}

/** A batch on its way as LOAD DATA (its rows can still turn into the INSERT's if the target refuses them). */
interface LoadedBatch {
  sql: string;
  rows: LoadDataRows;
}

function describeFailure(error: unknown, { table, chunk }: ChunkInput): unknown {
  if (error instanceof SourceFormatError) {
    return nonRetryable('SourceFormatError', `${table.key}: ${error.message}`, { table: table.key, path: error.path, offset: error.offset });
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EISDIR') {
    return nonRetryable('SourceFormatError', `${table.key}: ${chunk.path}: cannot read the file (${code}: ${(error as Error).message}). Replace it with a readable copy, then resume.`, {
      table: table.key,
      path: chunk.path,
    });
  }
  return error;
}
