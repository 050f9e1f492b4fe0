import type { CharacterSet } from './source/charset';
import type { CsvOptions } from './source/csv-reader';
import type { FileRule } from './source/layout';
import type { Compression, DataFile, DataFileType } from './source/layout-types';

/**
 * What a task needs to know, as recorded in Temporal's history: no password, no row data.
 * The worker holds the connection secrets; the settings name the target only for display.
 */
export interface TaskSettings {
  /** Stable for the life of one import, whatever continue-as-new or retries happen. */
  taskId: string;
  sourceDir: string;
  noSchema: boolean;
  filter: string[];
  caseSensitive: boolean;
  fileRules: FileRule[];
  defaultFileRules: boolean;
  routes: Route[];
  csv: CsvOptions;
  /** CSV header names map onto target columns (else the header is skipped and columns go by position). */
  csvHeaderSchemaMatch: boolean;
  strictFormat: boolean;
  /** `[mydumper] data-character-set`: what SQL and CSV data files are written in (`binary`: bytes pass untouched). */
  dataCharacterSet: CharacterSet;
  /** `[mydumper] data-invalid-char-replace`: what a byte sequence invalid in that character set becomes. */
  dataInvalidCharReplace: string;
  /** `[mydumper] character-set`: what schema files are written in. */
  characterSet: CharacterSet;
  maxRegionSize: number;
  /** `[mydumper] batch-size`: source bytes per engine. Absent in tasks started before engines: one engine per table. */
  batchSize?: number;
  readBlockSize: number;
  onDuplicate: 'replace' | 'ignore' | 'error';
  /** Unset: a default for each way of writing a batch (see import-chunk.ts). */
  batchBytes?: number;
  batchRows: number;
  /**
   * `[tikv-importer] logical-import-method`: `load-data` sends clean batches as LOAD DATA LOCAL (the
   * others, and every batch with `insert`, as multi-row INSERTs); `auto` is `load-data` except on TiDB,
   * whose LOAD DATA may commit apart from the chunk's position. Absent in tasks started before it: `auto`.
   */
  writeMethod?: 'auto' | 'load-data' | 'insert';
  /** `[lightning] max-error`: rows whose values the target cannot convert, recorded and skipped, per task. */
  maxError: number;
  /**
   * `[conflict] threshold`, for on-duplicate = "error": duplicate-key rows recorded and skipped, per
   * task. Absent in tasks started before it existed: 0, the first one fails its table.
   */
  conflictThreshold?: number;
  /**
   * `[tikv-importer] add-index-by-sql`: a table Tempest creates loads without its plain secondary
   * indexes, added back in one ALTER once its rows are in. Absent in tasks started before it: false.
   */
  deferIndexes?: boolean;
  taskInfoSchema: string;
  checksum: PostRestoreLevel;
  /**
   * The row encoding of the content checksums this task's chunks record (row-checksum.ts). Absent in
   * tasks started before it had a number: their tables are compared by row count only.
   */
  checksumVersion?: number;
  analyze: PostRestoreLevel;
  checkRequirements: boolean;
  tableConcurrency: number;
  /** `[temporal] continue-as-new-after`: tables, engines or chunk groups a workflow run handles before it continues as new. */
  continueAsNewAfter?: number;
  regionConcurrency: number;
  /** Lightning-format snapshots of the checkpoint (Temporal's history is the checkpoint itself). */
  checkpoint: CheckpointSettings;
  /** A Temporal duration ("20s"): a chunk that does not heartbeat for this long is retried elsewhere. */
  chunkHeartbeatTimeout: string;
  /**
   * `[temporal] give-up-after`, a Temporal duration ("30m"): how long activities may retry without
   * the task making progress before it fails with the last error. Absent: retry forever.
   */
  giveUpAfter?: string;
  /** For messages and checkpoints only. */
  target: { host: string; port: number; user: string };
  /** The server has Tempest's search attributes (workflows/search-attributes.ts): the task keeps TempestState current. */
  searchAttributes?: boolean;
}

/** How activities find a task's stored plan and settings: all that workflows pass them of the task. */
export type TaskRef = Pick<TaskSettings, 'taskId' | 'taskInfoSchema'>;

export interface CheckpointSettings {
  enable: boolean;
  driver: 'file' | 'mysql';
  /** The checkpoint schema of the MySQL driver (its server and credentials stay with the worker). */
  schema: string;
  /** The file of the file driver. */
  file: string;
  keepAfterSuccess: boolean | 'remove' | 'rename' | 'origin';
}

export type PostRestoreLevel = 'required' | 'optional' | 'off';

export interface Route {
  schemaPattern: string;
  tablePattern: string;
  targetSchema: string;
  targetTable: string;
}

/** One target table and every source file that goes into it (several with `[[routes]]`). */
export interface TablePlan {
  /** Lightning's table key of the target table: `db`.`t`. */
  key: string;
  schema: string;
  name: string;
  /** The source tables' schema files; the first creates the target table. */
  schemaFiles: string[];
  /** The source table (its key) of each schema file, in the same order; absent in plans made before it existed. */
  schemaSources?: string[];
  /** What the schema files are written in (`character-set`); absent in plans made before it existed: `binary`. */
  schemaCharacterSet?: CharacterSet;
  dataFiles: DataFile[];
  totalBytes: number;
}

export interface DatabasePlan {
  name: string;
  schemaFile?: string;
  schemaCharacterSet?: CharacterSet;
}

export interface ViewPlan {
  key: string;
  schema: string;
  name: string;
  schemaFile: string;
  schemaCharacterSet?: CharacterSet;
}

export interface SourcePlan {
  databases: DatabasePlan[];
  tables: TablePlan[];
  views: ViewPlan[];
}

/** A piece of one data file imported by one activity: the whole file, or a row-aligned byte range. */
export interface ChunkPlan {
  /** Lightning's chunk key: `{path}:{offset}`. */
  key: string;
  path: string;
  type: DataFileType;
  compression: Compression;
  /** Where the chunk starts in the uncompressed stream; for Parquet, its first row (index in the file). */
  offset: number;
  /** Where it ends; -1 until known, for compressed files; for Parquet, one past its last row. */
  endOffset: number;
  /** The file as planned, so a changed input is noticed. */
  fileSize: number;
  mtimeMs: number;
  /** CSV header names, for chunks that do not start at the header. */
  columns?: string[];
}

export interface ChunkInput {
  settings: TaskSettings;
  table: { key: string; schema: string; name: string };
  chunk: ChunkPlan;
}

export interface ChunkResult {
  rows: number;
  /** Uncompressed offset the chunk ended at. */
  endOffset: number;
}

/** Heartbeat details of a running chunk: enough for live progress, nothing from the rows. */
export interface ChunkHeartbeat {
  chunkKey: string;
  pos: number;
  rows: number;
  /** Bytes of the chunk's span on disk imported so far. */
  diskBytes: number;
  /** The group's first table, when one activity writes several (small tables). */
  table?: string;
}

export interface VerifyResult {
  status: 'checksummed' | 'skipped';
  sourceRows: number;
  targetRows: number;
  /** Why the checksum was not compared, when it was not. */
  note?: string;
}
