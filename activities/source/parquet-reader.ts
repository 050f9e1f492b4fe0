/**
 * Reader of Parquet data files.
 *
 * Positions in a Parquet file are row indexes, not bytes: a chunk is a range of rows that covers
 * whole row groups (`offset` its first row, `endOffset` one past its last), and a row's `endOffset`
 * is its index + 1, so a resumed chunk starts exactly at the first row not committed. A row group is
 * the smallest piece a Parquet file can be read by: memory holds one row group's columns at a time,
 * bounded by how the file was written (its row group size), never by the file's size.
 *
 * The rows are decoded in a thread of their own (parquet-decoder-thread.ts), one batch ahead at
 * most. hyparquet decodes each page in one synchronous step: in this thread, a damaged page whose
 * run-length header claims billions of values would stall the worker's every chunk and heartbeat
 * for minutes. There, a row group that takes longer than its deadline ends the thread, and the
 * chunk fails with a SourceFormatError that names the row group.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FileMetaData } from 'hyparquet';
import { nonRetryable } from '../failures';
import type { DataFile } from './layout-types';
import { unpackRows, type PackedRows } from './packed-rows';
import { openParquet, rowPlace, type ParquetReadOptions, type RowGroupStart } from './parquet-decode';
import { SourceFormatError, type SourceRow } from './row';

export type { ParquetReadOptions };

export interface ParquetReaderOptions extends ParquetReadOptions {
  /**
   * How long decoding one row group may take: `baseMs` plus `msPerMiB` per MiB it holds compressed.
   * The default (30 s + 2 s/MiB, decoding at 0.5 MB/s) is far beyond any healthy file's.
   */
  decodeDeadline?: { baseMs: number; msPerMiB: number };
}

export type DecoderRequest = { type: 'read'; path: string; options: ParquetReadOptions } | { type: 'next' };

export type DecoderMessage =
  | { type: 'group'; group: RowGroupStart }
  | { type: 'rows'; packed: PackedRows; columns: readonly string[] | undefined }
  | { type: 'done' }
  | { type: 'format-error'; offset: number; reason: string; place: string }
  | { type: 'failed'; message: string; code?: string; syscall?: string };

const DEFAULT_DEADLINE = { baseMs: 30_000, msPerMiB: 2_000 };
const DECODER_THREAD = path.join(__dirname, 'parquet-decoder-thread.js');

/**
 * The chunks of a Parquet file as row ranges: consecutive row groups, as many as fit in
 * `maxRegionSize` compressed bytes (at least one), so that large files import in parallel.
 */
export async function planParquetChunks(file: DataFile, maxRegionSize: number): Promise<Array<[number, number]>> {
  if (file.compression !== 'none') {
    throw nonRetryable('SourceFormatError', `${file.path}: a Parquet file compresses its own pages; a ${file.compression}-compressed one cannot be read by row group. Decompress it.`);
  }
  let metadata: FileMetaData;
  try {
    ({ metadata } = await openParquet(file.path));
  } catch (error) {
    if (error instanceof SourceFormatError) throw nonRetryable('SourceFormatError', error.message, { path: file.path, offset: 0 });
    throw error;
  }
  const ranges: Array<[number, number]> = [];
  let start = 0;
  let end = 0;
  let bytes = 0;
  for (const group of metadata.row_groups) {
    const size = Number(group.total_compressed_size ?? group.total_byte_size);
    if (end > start && bytes + size > maxRegionSize) {
      ranges.push([start, end]);
      start = end;
      bytes = 0;
    }
    end += Number(group.num_rows);
    bytes += size;
  }
  if (end > start || ranges.length === 0) ranges.push([start, end]);
  return ranges;
}

/** Yields the rows `startRow` to `endRow` of a Parquet file, reading only the row groups that hold them. */
export async function* readParquetRows(file: string, options: ParquetReaderOptions): AsyncGenerator<SourceRow[]> {
  const { decodeDeadline = DEFAULT_DEADLINE, ...range } = options;
  const decoder = DecoderThread.take();
  decoder.read(file, range);
  let group: RowGroupStart | undefined;
  let columns: readonly string[] = [];
  // The thread goes back to the pool only when the read ended with nothing asked of it.
  let reusable = false;
  try {
    for (;;) {
      decoder.ask();
      let message: DecoderMessage;
      do {
        const deadlineMs = group ? decodeDeadline.baseMs + (decodeDeadline.msPerMiB * group.compressedBytes) / 1048576 : decodeDeadline.baseMs;
        message = await decoder.next(deadlineMs, () => tooSlow(file, group, options.startRow, deadlineMs));
        if (message.type === 'group') group = message.group;
      } while (message.type === 'group');
      switch (message.type) {
        case 'done':
          reusable = true;
          return;
        case 'rows':
          columns = message.columns ?? columns;
          yield unpackRows(message.packed, columns);
          break;
        case 'format-error':
          reusable = true;
          throw new SourceFormatError(file, message.offset, message.reason, message.place);
        case 'failed':
          // Not the format (the file gone, unreadable): as the read itself would have thrown it.
          throw Object.assign(new Error(message.message), { code: message.code, syscall: message.syscall });
      }
    }
  } finally {
    if (reusable) decoder.release();
    else await decoder.stop();
  }
}

function tooSlow(file: string, group: RowGroupStart | undefined, startRow: number, deadlineMs: number): SourceFormatError {
  const limit = `${Math.round(deadlineMs / 1000)} s`;
  if (!group) return new SourceFormatError(file, startRow, `the file's metadata was not read within ${limit}: the file is damaged`, 'file footer');
  return new SourceFormatError(
    file,
    group.from,
    `decoding the row group took longer than ${limit} (the limit for its ${(group.compressedBytes / 1048576).toFixed(1)} MiB): ` +
      'the file is damaged (a page claims more values than it holds)',
    rowPlace(group.index, group.firstRow, group.from),
  );
}

/**
 * A decoder thread, reading one chunk at a time. Threads that finished a chunk cleanly wait in a
 * small pool for the next one (starting a thread and loading hyparquet in it costs tens of
 * milliseconds: many small files would pay it per file); a waiting thread does not keep the
 * process alive.
 */
class DecoderThread {
  private static readonly idle: DecoderThread[] = [];
  private static readonly MAX_IDLE = 4;

  private readonly worker: Worker;
  private readonly inbox: DecoderMessage[] = [];
  private waiting: ((message: DecoderMessage | Error) => void) | undefined;
  private failure: Error | undefined;
  private file = '';
  private startRow = 0;

  static take(): DecoderThread {
    const thread = DecoderThread.idle.pop() ?? new DecoderThread();
    thread.worker.ref();
    return thread;
  }

  private constructor() {
    this.worker = new Worker(DECODER_THREAD);
    this.worker.on('message', (message: DecoderMessage) => this.deliver(message));
    this.worker.on('error', (error: Error & { code?: string }) => {
      this.failure =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new SourceFormatError(this.file, this.startRow, 'decoding a row group needed more memory than there is: the file is damaged, or its row groups are too large for this machine', 'row group')
          : error;
      DecoderThread.forget(this);
      this.deliver(this.failure);
    });
  }

  read(file: string, options: ParquetReadOptions): void {
    this.file = file;
    this.startRow = options.startRow;
    this.post({ type: 'read', path: file, options });
  }

  ask(): void {
    this.post({ type: 'next' });
  }

  /** The next message, or the error `late` makes if none arrives within `ms`. */
  next(ms: number, late: () => Error): Promise<DecoderMessage> {
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(late());
      }, ms);
      this.waiting = (message) => {
        clearTimeout(timer);
        this.waiting = undefined;
        if (message instanceof Error) reject(message);
        else resolve(message);
      };
    });
  }

  release(): void {
    if (this.failure || DecoderThread.idle.length >= DecoderThread.MAX_IDLE) {
      void this.worker.terminate();
      return;
    }
    this.worker.unref();
    DecoderThread.idle.push(this);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }

  private static forget(thread: DecoderThread): void {
    const index = DecoderThread.idle.indexOf(thread);
    if (index >= 0) DecoderThread.idle.splice(index, 1);
  }

  private post(request: DecoderRequest): void {
    this.worker.postMessage(request);
  }

  private deliver(message: DecoderMessage | Error): void {
    if (this.waiting) this.waiting(message);
    else if (!(message instanceof Error)) this.inbox.push(message);
  }
}
