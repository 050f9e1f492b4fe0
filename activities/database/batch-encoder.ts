import type { SourceRow } from '../source/row';
import { hasEscapes, latin1, type RowSink, type StringBody } from '../source/row-sink';
import { unescapeSqlInto } from '../source/sql-string';
import { ByteBuilder } from './byte-builder';
import { InsertStatement } from './insert-statement';
import { isFieldAsWritten, loadColumnKinds, loadDataSql, LoadDataRows, type LoadColumnKind } from './load-data';
import { numberForm } from './number-form';
import type { ChecksumColumn, RowChecksummer } from './row-checksum';
import { quoteBytes } from './sql-text';
import type { TargetColumn } from './table-columns';
import type { TaskSettings } from '../task-types';

/** How one statement's column list maps onto the target table. */
export interface ColumnMapping {
  insert: InsertStatement;
  /** The LOAD DATA for the same columns, when batches may go that way. */
  load: { sql: string; kinds: LoadColumnKind[] } | undefined;
  /** For each value of a row, the index of the checksummed column it fills, or -1. */
  checksumSlots: Int32Array;
  /** Every checksummed column gets a value (else a row's checksum is unknown). */
  checksumComplete: boolean;
  /** The values fill the checksummed columns in their order. */
  checksumInOrder: boolean;
  valueCount: number;
}

/** The mapping of rows whose values are for `columns` (target columns, in the rows' order) of `table`. */
export function columnMapping(
  table: { schema: string; name: string },
  columns: readonly TargetColumn[],
  covered: readonly ChecksumColumn[],
  onDuplicate: TaskSettings['onDuplicate'],
  loadData: boolean,
): ColumnMapping {
  const names = columns.map((column) => column.name);
  // A row of no values is an INSERT of the columns' defaults; to LOAD DATA an empty line is a row of one empty field.
  const kinds = loadData && columns.length > 0 ? loadColumnKinds(columns) : undefined;
  const sources = covered.map(({ column }) => names.indexOf(column.name));
  const checksumSlots = new Int32Array(names.length).fill(-1);
  sources.forEach((valueIndex, slot) => {
    if (valueIndex >= 0) checksumSlots[valueIndex] = slot;
  });
  return {
    insert: new InsertStatement(table.schema, table.name, names, onDuplicate),
    load: kinds && { sql: loadDataSql(table.schema, table.name, names), kinds },
    checksumSlots,
    checksumComplete: !sources.includes(-1),
    checksumInOrder: sources.every((valueIndex, slot) => slot === 0 || valueIndex > sources[slot - 1]),
    valueCount: names.length,
  };
}

/** A batch as it goes to the target: LOAD DATA rows while it can go that way, else the INSERT's `(…)` rows. */
export interface EncodedBatch {
  load: LoadDataRows | undefined;
  rows: string[];
}

/**
 * Builds a batch from values as a reader finds them: each one goes straight into the LOAD DATA
 * rows (or, once the batch must go as an INSERT, into the row's INSERT text) and into the row's
 * checksum, with no object for each value. A batch goes as LOAD DATA when its first row may and
 * every value of it reaches its column as the INSERT's literal would (see LoadDataRows.literalField);
 * otherwise it goes as the INSERT it stands for.
 */
export class BatchEncoder {
  private mapping: ColumnMapping | undefined;
  /** Whether the batch's first row has decided its way: as LOAD DATA while `load` is set, else as an INSERT. */
  private decided = false;
  private load: LoadDataRows | undefined;
  private rows: string[] = [];
  private insertBytes = 0;
  /** The INSERT text of the row's values so far. */
  private rowParts: string[] = [];
  /**
   * The INSERT text of the row's first values as the batch's turn to an INSERT wrote them, kept
   * while the row is read again (the reader stopped short): it is written the same way whatever the split.
   */
  private replayParts: string[] = [];
  private valueIndex = 0;
  /** Whether this row's checksum is computed (every checksummed column gets a value). */
  private checksumming = false;
  /** Batches' buffers given back once sent: a megabyte a batch of new memory would be garbage. */
  private readonly spareLoads: LoadDataRows[] = [];
  /** The unescaped bytes of a string with escapes. */
  private readonly scratch = new ByteBuilder(64 * 1024);

  /**
   * @param checksummer absent when nothing will compare checksums
   * @param loadBytes the room a LOAD DATA batch reserves up front
   */
  constructor(
    private readonly checksummer: RowChecksummer | undefined,
    private readonly loadBytes: number,
  ) {}

  /** Rows ended in this batch. */
  rowCount = 0;

  get bytes(): number {
    return this.load ? this.load.length : this.insertBytes;
  }

  /** Values given to the row so far. */
  get values(): number {
    return this.valueIndex;
  }

  /** Starts a row for `mapping`; `mayLoad`: the target takes LOAD DATA (asked at a batch's first row). */
  startRow(mapping: ColumnMapping, mayLoad: boolean): void {
    this.mapping = mapping;
    if (!this.decided) {
      this.decided = true;
      if (mapping.load && mayLoad) this.load = this.spareLoads.pop() ?? new LoadDataRows(this.loadBytes);
    }
    this.load?.startRow();
    this.rowParts = [];
    this.valueIndex = 0;
    this.checksumming = this.checksummer !== undefined && mapping.checksumComplete;
    if (this.checksumming) this.checksummer!.startRow(mapping.checksumInOrder);
  }

  nullValue(): void {
    const index = this.valueIndex++;
    if (this.load) this.load.nullField();
    else this.insertPart(index, 'NULL');
    const slot = this.slotOf(index);
    if (slot >= 0) this.checksummer!.nullValue(slot);
  }

  /** A quoted string's body buf[start, end), escapes unresolved. */
  quotedValue(buf: Buffer, start: number, end: number, body: StringBody, quote: number): void {
    if (this.load && isFieldAsWritten(body, quote)) return this.quotedField(buf, start, end, body, quote);
    if (!hasEscapes(body)) return this.stringValue(buf, start, end);
    this.stringValue(this.scratch.buffer, 0, this.unescape(buf, start, end, quote));
  }

  /** An unquoted literal's text buf[start, end), sent as written. */
  literalValue(buf: Buffer, start: number, end: number): void {
    const index = this.valueIndex++;
    const form = numberForm(buf, start, end);
    if (this.load && !this.load.literalField(buf, start, end, form, this.mapping!.load!.kinds[index])) this.switchToInsert();
    if (!this.load) this.insertPart(index, latin1(buf, start, end));
    const slot = this.slotOf(index);
    if (slot >= 0) this.checksummer!.literalValue(slot, buf, start, end, form);
  }

  /** A value as a SourceValue holds it: a string's bytes, or a literal's text. */
  builtValue(value: Buffer | string): void {
    if (typeof value !== 'string') return this.stringValue(value, 0, value.length);
    const text = Buffer.from(value, 'latin1');
    this.literalValue(text, 0, text.length);
  }

  /** Ends the row; returns its CRC, or undefined when it is not known (or not computed). */
  endRow(): number | undefined {
    if (this.load) {
      this.load.endRow();
    } else {
      const text = `(${this.rowParts.join(',')})`;
      this.rows.push(text);
      this.insertBytes += text.length;
    }
    this.rowCount++;
    this.replayParts = [];
    return this.checksumming ? this.checksummer!.endRow() : undefined;
  }

  /** Forgets the row started, to be read again (the reader stopped short), or malformed. */
  abandonRow(): void {
    this.load?.abandonRow();
    this.rowParts = [];
  }

  /** Forgets the row started for good (it was imported before): the next row is another one. */
  dropRow(): void {
    this.abandonRow();
    this.replayParts = [];
  }

  /** Hands over the batch built so far and starts the next. */
  take(): EncodedBatch {
    const batch = { load: this.load, rows: this.rows };
    this.decided = false;
    this.load = undefined;
    this.rows = [];
    this.insertBytes = 0;
    this.rowCount = 0;
    return batch;
  }

  /** Takes back a batch's LOAD DATA rows once the target has them (at most a couple are kept). */
  recycle(load: LoadDataRows): void {
    if (this.spareLoads.length >= 2) return;
    load.clear();
    this.spareLoads.push(load);
  }

  private stringValue(src: Buffer, start: number, end: number): void {
    const index = this.valueIndex++;
    if (this.load) this.load.stringField(src, start, end);
    else this.insertPart(index, quoteBytes(src.subarray(start, end)));
    const slot = this.slotOf(index);
    if (slot >= 0) this.checksummer!.stringValue(slot, src, start, end);
  }

  /** A string that is as written also its LOAD DATA field (isFieldAsWritten): copied as written; unescaped only to be hashed. */
  private quotedField(buf: Buffer, start: number, end: number, body: StringBody, quote: number): void {
    const index = this.valueIndex++;
    this.load!.quotedField(buf, start - 1, end + 1);
    const slot = this.slotOf(index);
    if (slot < 0) return;
    if (body === 'plain') this.checksummer!.stringValue(slot, buf, start, end);
    else this.checksummer!.stringValue(slot, this.scratch.buffer, 0, this.unescape(buf, start, end, quote));
  }

  /** Unescapes the body buf[start, end) into `scratch`; returns its length. */
  private unescape(buf: Buffer, start: number, end: number, quote: number): number {
    this.scratch.length = 0;
    this.scratch.reserve(end - start);
    return unescapeSqlInto(buf, start, end, quote, this.scratch.buffer, 0);
  }

  private insertPart(index: number, text: string): void {
    this.rowParts.push(index < this.replayParts.length ? this.replayParts[index] : text);
  }

  private slotOf(index: number): number {
    return this.checksumming ? this.mapping!.checksumSlots[index] : -1;
  }

  /** A value LOAD DATA cannot carry as the INSERT would: the whole batch, this row too, goes as an INSERT. */
  private switchToInsert(): void {
    const { rows, startedRow } = this.load!.insertRows();
    this.rows = rows;
    this.insertBytes = rows.reduce((sum, text) => sum + text.length, 0);
    this.rowParts = startedRow;
    this.replayParts = [...startedRow];
    this.load = undefined;
  }
}

/**
 * A reader's sink whose values go into a batch encoder; what a row's start and end mean (which
 * mapping, when a batch is due) is the subclass's.
 */
export abstract class EncodingSink implements RowSink {
  protected abstract readonly encoder: BatchEncoder;

  abstract startRow(columns: readonly string[] | undefined): void;
  abstract endRow(endOffset: number): void;

  /** A row read as a SourceRow (CSV, Parquet), given value by value as the SQL reader gives its own. */
  addRow(row: SourceRow): void {
    this.startRow(row.columns);
    for (const value of row.values) {
      if (value === null) this.nullValue();
      else this.builtValue(value);
    }
    this.endRow(row.endOffset);
  }

  nullValue(): void {
    this.encoder.nullValue();
  }

  quotedValue(buf: Buffer, start: number, end: number, body: StringBody, quote: number): void {
    this.encoder.quotedValue(buf, start, end, body, quote);
  }

  literalValue(buf: Buffer, start: number, end: number): void {
    this.encoder.literalValue(buf, start, end);
  }

  builtValue(value: Buffer | string): void {
    this.encoder.builtValue(value);
  }

  abandonRow(): void {
    this.encoder.abandonRow();
  }
}
