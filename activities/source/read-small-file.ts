import { nonRetryable } from '../failures';
import { decodeSchemaFile, type CharacterSet } from './charset';
import { openDataFile } from './open-data-file';
import { compressionOfPath } from './layout';
import { SourceFormatError } from './row';

const maxSchemaFileBytes = 64 * 1024 * 1024;

/**
 * Reads a whole (small) file such as a schema file, decompressing by suffix and converting from
 * `characterSet` to UTF-8, as a byte string. A damaged or undecodable file is a failure to fix, not to retry.
 */
export async function readSmallFile(path: string, characterSet: CharacterSet): Promise<string> {
  const opened = openDataFile(path, compressionOfPath(path), 0, 64 * 1024);
  const parts: Buffer[] = [];
  let length = 0;
  try {
    for await (const part of opened.bytes) {
      length += part.length;
      if (length > maxSchemaFileBytes) throw new Error(`${path} is over ${maxSchemaFileBytes} bytes: not a schema file`);
      parts.push(part);
    }
    return decodeSchemaFile(Buffer.concat(parts), characterSet, path).toString('latin1');
  } catch (error) {
    if (error instanceof SourceFormatError) throw nonRetryable('SourceFormatError', error.message, { path: error.path, offset: error.offset });
    throw error;
  } finally {
    opened.close();
  }
}
