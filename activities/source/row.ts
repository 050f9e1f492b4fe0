/**
 * One value read from a source file, as the target will receive it:
 * - `null`: SQL NULL;
 * - a `Buffer`: the bytes of a string (quoted SQL string with escapes resolved, `_binary'…'`, or a CSV field);
 * - a `string`: a literal to send verbatim, never quoted (an SQL number, `0x…`/`X'…'` hex, `b'…'` bits,
 *   `TRUE`/`FALSE`), so that numbers stay numbers in numeric columns.
 */
export type SourceValue = Buffer | string | null;

/** One row of a data file, with where it ends in the file's uncompressed byte stream. */
export interface SourceRow {
  values: SourceValue[];
  /** Column names this row's values are in, when the file says (an INSERT column list, a CSV header). */
  columns: readonly string[] | undefined;
  /** Offset just past this row: resuming at it skips this row and everything before it. */
  endOffset: number;
}

/**
 * A data file could not be read as its format says: names the file and the byte offset of the
 * problem (`place` describes the offset when it is not a byte offset: a Parquet row, say).
 */
export class SourceFormatError extends Error {
  constructor(
    readonly path: string,
    readonly offset: number,
    readonly reason: string,
    readonly place = `byte offset ${offset}`,
  ) {
    super(`${path}: ${place}: ${reason}. Fix or remove this part of the file, then resume the task.`);
    this.name = 'SourceFormatError';
  }
}
