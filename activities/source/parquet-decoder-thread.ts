/**
 * A thread Parquet chunks are decoded in (see parquet-reader.ts), one at a time: `read` starts a
 * chunk's row range, and each `next` decodes one batch (so it never runs ahead of the import). It
 * says before each row group which one it starts.
 */
import { parentPort } from 'node:worker_threads';
import { packRows } from './packed-rows';
import { decodeParquetRows } from './parquet-decode';
import { SourceFormatError, type SourceRow } from './row';
import type { DecoderMessage, DecoderRequest } from './parquet-reader';

const port = parentPort;
if (port) {
  // hyparquet leaves some of a damaged row group's column reads unobserved when one of them fails:
  // parquetRead rejects with the first failure (a format error of the row group), and the others
  // are that same damage. Unhandled, they would end this thread instead.
  process.on('unhandledRejection', () => undefined);
  const send = (message: DecoderMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  let rows: AsyncGenerator<SourceRow[]> | undefined;
  let columnsSent = false;
  port.on('message', (request: DecoderRequest) => {
    if (request.type === 'read') {
      rows = decodeParquetRows(request.path, request.options, (group) => send({ type: 'group', group }));
      columnsSent = false;
      return;
    }
    if (!rows) return send({ type: 'failed', message: 'no chunk to decode was named before `next`' });
    rows.next().then(
      (step) => {
        if (step.done) return send({ type: 'done' });
        const packed = packRows(step.value);
        send({ type: 'rows', packed, columns: columnsSent ? undefined : step.value[0].columns }, [packed.bytes]);
        columnsSent = true;
      },
      (error: unknown) => {
        if (error instanceof SourceFormatError) return send({ type: 'format-error', offset: error.offset, reason: error.reason, place: error.place });
        const { message, code, syscall } = error as NodeJS.ErrnoException;
        send({ type: 'failed', message: String(message ?? error), code, syscall });
      },
    );
  });
}
