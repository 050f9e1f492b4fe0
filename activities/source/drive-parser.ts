import type { SourceFormatError, SourceRow } from './row';

/** A reader's parser, fed the input's buffers as they come and handing back whole rows (or what stands for them). */
export interface IncrementalParser<T = SourceRow> {
  /** Bytes the parser needs before another step can get further than the last one. */
  pendingBytes(): number;
  feed(chunks: Buffer[], eof: boolean): T[];
  error: SourceFormatError | undefined;
  /** Past the end it was asked to read to: the input need not be read further. */
  readonly done?: boolean;
}

/** Feeds a parser from a byte stream and yields its rows in groups, never more than one step behind the input. */
export async function* driveParser<T>(parser: IncrementalParser<T>, input: AsyncIterable<Buffer>): AsyncGenerator<T[]> {
  let held: Buffer[] = [];
  let heldLength = 0;
  for await (const chunk of input) {
    if (chunk.length === 0) continue;
    held.push(chunk);
    heldLength += chunk.length;
    // A step that stopped short is retried only once the new bytes at least double what it had
    // seen: re-scanning a long row for every tiny buffer would otherwise be quadratic.
    if (heldLength < parser.pendingBytes()) continue;
    const rows = parser.feed(held, false);
    held = [];
    heldLength = 0;
    if (rows.length > 0) yield rows;
    // A format error comes after the rows that precede it, however the input was split.
    if (parser.error) throw parser.error;
    if (parser.done) return; // past the end: stop reading (ends the input's iteration too)
  }
  if (parser.done) return;
  const rows = parser.feed(held, true);
  if (rows.length > 0) yield rows;
  if (parser.error) throw parser.error;
}
