/** What a reader made of one input, and the properties every reading must keep, whatever the input. */
import assert from 'node:assert/strict';
import { SourceFormatError, type SourceRow } from '../../activities/source/row';
import type { Rng } from './random';

export interface Outcome {
  rows: SourceRow[];
  error?: { offset: number; reason: string; message: string };
}

/** Reads all rows, catching a SourceFormatError of the file read (any other exception fails the input). */
export async function outcome(rows: AsyncIterable<SourceRow[]>, path: string): Promise<Outcome> {
  const out: Outcome = { rows: [] };
  try {
    for await (const group of rows) {
      assert.ok(group.length > 0, 'groups are never empty');
      out.rows.push(...group);
    }
  } catch (error) {
    if (!(error instanceof SourceFormatError)) throw error;
    assert.equal(error.path, path, `the error names the file read: ${error.message}`);
    out.error = { offset: error.offset, reason: error.reason, message: error.message };
  }
  return out;
}

/**
 * Rows end in order inside the input; an error's position is inside it too, and the message names
 * the file and the place (`place`: how this reader names positions) with a short reason.
 */
export function checkOutcome(got: Outcome, path: string, start: number, length: number, place: RegExp, what: string): void {
  let previous = start;
  for (const row of got.rows) {
    assert.ok(row.endOffset > previous && row.endOffset <= start + length, `end offset ${row.endOffset} out of order or range, ${what}`);
    previous = row.endOffset;
  }
  if (!got.error) return;
  const { offset, reason, message } = got.error;
  assert.ok(Number.isInteger(offset) && offset >= start && offset <= start + length, `error offset ${offset} outside [${start}, ${start + length}], ${what}`);
  assert.ok(reason.length > 0 && reason.length < 400, `reason '${reason}', ${what}`);
  assert.ok(!reason.startsWith('internal error'), `${reason}, ${what}`);
  assert.ok(message.startsWith(`${path}: `) && place.test(message), `the message names the file and the place (${place}): ${message}, ${what}`);
}

/** The kind of an outcome, for the campaign's tally: rows, or the error's reason without its particulars. */
export function kindOf(got: Outcome): string {
  if (!got.error) return 'read';
  return got.error.reason
    .replace(/, found .*|`[^`]*`|'[^']*'|"[^"]*"/g, '…')
    .replace(/\d+/g, 'N')
    .split(/[:;(]/)[0]
    .slice(0, 80)
    .trim();
}

export async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/** A buffer size for feeding a reader: tiny ones find the bugs of bytes split across buffers. */
export function chunkSize(r: Rng, length: number): number {
  const size = r.pick([1, 2, 3, 7, 64, 4096, 0]);
  return size === 0 ? Math.max(1, length) : size;
}

/** Shows an input in a failure message. */
export function show(data: Buffer): string {
  const text = JSON.stringify(data.toString('latin1'));
  return text.length > 1500 ? text.slice(0, 1500) + '…' : text;
}
