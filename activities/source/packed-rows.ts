import type { SourceRow, SourceValue } from './row';

/**
 * Consecutive rows of one file packed into one buffer, to cross between threads in one transfer:
 * posted as they are, each Buffer value would copy the whole page it is a view of.
 */
export interface PackedRows {
  bytes: ArrayBuffer;
  rows: number;
  width: number;
  /** The first row's endOffset; each next row ends one further (rows of a Parquet file). */
  firstEnd: number;
}

const NULL = 0;
const BYTES = 1;
const LITERAL = 2;

export function packRows(rows: readonly SourceRow[]): PackedRows {
  const width = rows.length > 0 ? rows[0].values.length : 0;
  let size = 0;
  for (const row of rows) {
    for (const value of row.values) size += 1 + (value === null ? 0 : 4 + (typeof value === 'string' ? value.length : value.length));
  }
  const out = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const row of rows) {
    for (const value of row.values) {
      if (value === null) {
        out[at++] = NULL;
      } else if (typeof value === 'string') {
        // Literals are numbers and the like: one byte per character.
        out[at++] = LITERAL;
        out.writeUInt32LE(value.length, at);
        at += 4 + out.write(value, at + 4, 'latin1');
      } else {
        out[at++] = BYTES;
        out.writeUInt32LE(value.length, at);
        at += 4 + value.copy(out, at + 4);
      }
    }
  }
  return { bytes: out.buffer, rows: rows.length, width, firstEnd: rows.length > 0 ? rows[0].endOffset : 0 };
}

export function unpackRows(packed: PackedRows, columns: readonly string[]): SourceRow[] {
  const bytes = Buffer.from(packed.bytes);
  const rows: SourceRow[] = [];
  let at = 0;
  for (let r = 0; r < packed.rows; r++) {
    const values: SourceValue[] = new Array(packed.width);
    for (let v = 0; v < packed.width; v++) {
      const tag = bytes[at++];
      if (tag === NULL) {
        values[v] = null;
        continue;
      }
      const length = bytes.readUInt32LE(at);
      at += 4;
      values[v] = tag === LITERAL ? bytes.toString('latin1', at, at + length) : bytes.subarray(at, at + length);
      at += length;
    }
    rows.push({ values, columns, endOffset: packed.firstEnd + r });
  }
  return rows;
}
