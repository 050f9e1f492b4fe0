import type { Pool, RowDataPacket } from 'mysql2/promise';
import { nonRetryable } from '../failures';
import type { TaskSettings, VerifyResult } from '../task-types';
import { readTableProgressTotals } from './chunk-progress';
import { countTableRecords, recordsTableName } from './error-records';
import { readRowsAlreadyIn } from './overlap-marks';
import { CHECKSUM_VERSION, checksumColumns, targetChecksumSelect } from './row-checksum';
import { qualifiedName } from './sql-text';
import { readTargetColumns } from './table-columns';

export interface VerifyInput {
  settings: TaskSettings;
  table: { key: string; schema: string; name: string };
}

/**
 * Compares what was read from the source (row count and content checksum, committed with the rows)
 * with what the target table holds. With `checksum = "required"` a difference fails the table.
 */
export async function verifyTable(pool: Pool, { settings, table }: VerifyInput): Promise<VerifyResult> {
  const source = await readTableProgressTotals(pool, settings.taskInfoSchema, settings.taskId, table.key);
  const { covered, skipped } = checksumColumns(await readTargetColumns(pool, table.schema, table.name));
  // A task whose chunks hashed rows another way can only compare counts: the scan then hashes nothing.
  const sameEncoding = settings.checksumVersion === CHECKSUM_VERSION;
  const [rows] = await pool.query<RowDataPacket[]>(targetChecksumSelect(qualifiedName(table.schema, table.name), sameEncoding ? covered : []));
  const targetRows = Number(rows[0].row_count);
  const targetChecksum = String(rows[0].checksum);
  // Rows diverted to the error records left the source checksum as they were recorded: only their count is missing here.
  const recorded = await countTableRecords(pool, settings, table.key);
  const expectedRows = source.rows - source.duplicates - recorded.type - recorded.conflict;
  const inRecords = [
    recorded.type ? `${recorded.type} that could not be converted, in ${recordsTableName(settings.taskInfoSchema, 'type')}` : '',
    recorded.conflict ? `${recorded.conflict} with a duplicate key, in ${recordsTableName(settings.taskInfoSchema, 'conflict')}` : '',
  ].filter(Boolean);
  const setAside = [...(source.duplicates ? [`${source.duplicates} merged by on-duplicate = "${settings.onDuplicate}"`] : []), ...inRecords];

  const notes: string[] = [];
  let mismatch: string | undefined;
  let contentCompared = false;
  if (targetRows !== expectedRows) {
    mismatch = `the source has ${source.rows} rows${setAside.length > 0 ? ` (${setAside.join('; ')})` : ''}, the target table has ${targetRows}`;
  } else if (source.duplicates > 0) {
    notes.push(`${source.duplicates} source rows had a duplicate key and were merged by on-duplicate = "${settings.onDuplicate}", so contents were compared by row count only`);
  } else if (!sameEncoding) {
    notes.push('the task was started by a version of Tempest that checksummed rows differently, so contents were compared by row count only');
  } else if (!source.checksumComplete) {
    notes.push('some values have a form whose stored value cannot be predicted, so contents were compared by row count only');
  } else if (targetChecksum !== source.checksum) {
    mismatch = `row counts agree (${targetRows}) but the contents differ (source checksum ${source.checksum}, target ${targetChecksum})`;
  } else {
    contentCompared = true;
  }
  if (inRecords.length > 0) notes.unshift(`source rows not imported: ${inRecords.join('; ')}`);
  if (skipped.length > 0) notes.push(`columns not compared by content: ${skipped.join(', ')}`);
  const alreadyIn = await readRowsAlreadyIn(pool, settings.taskInfoSchema, settings.taskId, table.key);
  if (alreadyIn > 0) notes.push(`${alreadyIn} rows that Lightning had written past the positions it saved were found in the target and not written twice`);

  if (mismatch) {
    const message = `${table.key}: verification failed: ${mismatch}.`;
    if (settings.checksum === 'required') {
      throw nonRetryable('VerificationError', `${message} The table needs to be imported again (destroy its checkpoint and resume).`, {
        table: table.key,
        sourceRows: source.rows,
        targetRows,
      });
    }
    return { status: 'skipped', sourceRows: source.rows, targetRows, note: `${message} Ignored because [post-restore] checksum = "optional".` };
  }
  return { status: contentCompared ? 'checksummed' : 'skipped', sourceRows: source.rows, targetRows, note: notes.length > 0 ? notes.join('; ') : undefined };
}
