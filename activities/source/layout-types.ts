export type DataFileType = 'sql' | 'csv' | 'parquet';
export type Compression = 'none' | 'gzip' | 'zstd' | 'snappy';

export interface DataFile {
  /** Absolute path. */
  path: string;
  /** Size on disk (compressed size for compressed files). */
  size: number;
  mtimeMs: number;
  type: DataFileType;
  /** The dump's sequence number or a rule's `key`; orders the files of one table. */
  key: string;
  compression: Compression;
}

export interface SourceTable {
  schema: string;
  name: string;
  schemaFile?: string;
  dataFiles: DataFile[];
}

export interface SourceLayout {
  databases: Array<{ name: string; schemaFile?: string }>;
  tables: SourceTable[];
  views: Array<{ schema: string; name: string; schemaFile: string }>;
}
