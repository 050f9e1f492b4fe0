import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { RunningCrc32 } from '../../activities/database/running-crc32';
import { seededRandom } from '../helpers/dump-fixture';

test('bytes fed in pieces of any size, short and long, give zlib’s CRC32 of them all', () => {
  const random = seededRandom(11);
  const data = Buffer.from(Array.from({ length: 5000 }, () => Math.floor(random() * 256)));
  const crc = new RunningCrc32();
  for (let round = 0; round < 200; round++) {
    crc.reset();
    const length = Math.floor(random() * data.length);
    let at = 0;
    while (at < length) {
      // Mostly short pieces, now and then one long enough for zlib.
      const piece = Math.min(length - at, random() < 0.1 ? 150 + Math.floor(random() * 400) : Math.floor(random() * 20));
      if (piece === 1 && random() < 0.5) crc.byte(data[at]);
      else crc.bytes(data, at, at + piece);
      at += piece;
    }
    assert.equal(crc.value, zlib.crc32(data.subarray(0, length)), `${length} bytes`);
  }
});

test('decimal numbers are hashed as their digits', () => {
  const crc = new RunningCrc32();
  for (const value of [0, 7, 10, 99, 12345, 2 ** 31 + 1, 2 ** 32 - 1]) {
    crc.reset();
    crc.decimal(value);
    assert.equal(crc.value, zlib.crc32(String(value)), String(value));
  }
});
