import { openDataFile } from './open-data-file';
import { compressionOfPath } from './layout';

const maxSchemaFileBytes = 64 * 1024 * 1024;

/** Reads a whole (small) file such as a schema file, decompressing by suffix, as a byte string. */
export async function readSmallFile(path: string): Promise<string> {
  const opened = openDataFile(path, compressionOfPath(path), 0, 64 * 1024);
  const parts: Buffer[] = [];
  let length = 0;
  try {
    for await (const part of opened.bytes) {
      length += part.length;
      if (length > maxSchemaFileBytes) throw new Error(`${path} is over ${maxSchemaFileBytes} bytes: not a schema file`);
      parts.push(part);
    }
  } finally {
    opened.close();
  }
  return Buffer.concat(parts).toString('latin1');
}
