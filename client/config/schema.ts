import os from 'node:os';
import { z } from 'zod';
import { parseByteSize } from './byte-size';
import { fileRuleTypes } from '../../activities/source/layout';

/**
 * The `tidb-lightning.toml` keys Tempest understands, with Lightning's names and meanings
 * (shared/LIGHTNING-COMPAT.md §2), plus a `[temporal]` section of our own.
 * Every section is strict: an unknown key is an error that names it, so a typo is never ignored.
 */

const byteSize = z
  .union([z.number().int().positive(), z.string()])
  .transform((value, ctx) => {
    const bytes = parseByteSize(value);
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a size (write e.g. 256MiB, 96KiB or a number of bytes)` });
      return z.NEVER;
    }
    return bytes;
  });

/** Lightning accepts true/false as well as the three words for post-restore steps. */
const postRestoreLevel = z
  .union([z.enum(['required', 'optional', 'off']), z.boolean()])
  .transform((value) => (value === true ? 'required' : value === false ? 'off' : value));

/** `max-error = 5`, or Lightning's table form `max-error = { type = 5 }`: rows the target cannot convert. */
const maxError = z
  .union([z.number().int().nonnegative(), z.object({ type: z.number().int().nonnegative().default(0) }).strict()])
  .transform((value) => (typeof value === 'number' ? value : value.type));

/** Lightning keys that change what is imported, which Tempest does not apply: refused rather than ignored. */
function notApplied(what: string) {
  return z.unknown().refine(() => false, { message: `${what} is not supported by Tempest yet; remove it, or import these tables with Lightning` });
}

const characterSet = z.enum(['auto', 'utf8mb4', 'utf8', 'gb18030', 'gbk', 'latin1', 'binary']);

const lightning = z
  .object({
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    file: z.string().default(''),
    'table-concurrency': z.number().int().positive().default(6),
    'index-concurrency': z.number().int().positive().default(2),
    'region-concurrency': z.number().int().positive().default(os.availableParallelism()),
    'io-concurrency': z.number().int().positive().default(5),
    'check-requirements': z.boolean().default(true),
    'max-error': maxError.default(0),
    'task-info-schema-name': z.string().min(1).default('lightning_task_info'),
  })
  .strict();

const checkpoint = z
  .object({
    enable: z.boolean().default(true),
    driver: z.enum(['file', 'mysql']).default('file'),
    schema: z.string().min(1).default('tidb_lightning_checkpoint'),
    dsn: z.string().default(''),
    'keep-after-success': z.union([z.boolean(), z.enum(['remove', 'rename', 'origin'])]).default(false),
  })
  .strict();

const tikvImporter = z
  .object({
    backend: z.enum(['tidb', 'local']).default('tidb'),
    'on-duplicate': z.enum(['replace', 'ignore', 'error']).default('replace'),
    // Unset: Tempest's default for each way a batch is written (activities/import-chunk.ts).
    'logical-import-batch-size': byteSize.optional(),
    'logical-import-batch-rows': z.number().int().positive().default(65536),
    // Tempest's own: how batches are written (see activities/database/load-data.ts).
    'logical-import-method': z.enum(['auto', 'load-data', 'insert']).default('auto'),
    // Lightning's applies to its physical mode only and defaults to false; here it is the logical
    // import's, and on by default: plain secondary indexes are added after the rows, in one pass.
    'add-index-by-sql': z.boolean().default(true),
  })
  .strict();

const conflict = z
  .object({
    strategy: z.enum(['', 'error', 'replace', 'ignore']).default(''),
    // No default: Lightning's 10000 is for "replace" and "ignore", which record nothing here; with
    // "error", an unset threshold keeps Lightning's meaning, the first duplicate fails the table.
    threshold: z.number().int().nonnegative().optional(),
    'max-record-rows': z.number().int().nonnegative().default(10000),
  })
  .strict();

const csv = z
  .object({
    separator: z.string().min(1).default(','),
    delimiter: z.string().max(1).default('"'),
    terminator: z.string().default(''),
    header: z.boolean().default(true),
    'header-schema-match': z.boolean().default(true),
    'not-null': z.boolean().default(false),
    null: z.union([z.string(), z.array(z.string())]).transform((value) => (Array.isArray(value) ? value : [value])).default(['\\N']),
    'backslash-escape': z.boolean().default(true),
    'trim-last-separator': z.boolean().default(false),
    'escaped-by': z.string().max(1).optional(),
  })
  .strict();

const fileRule = z
  .object({
    // Lightning's `path` names one file (relative to the source) instead of a pattern.
    pattern: z.string().min(1).optional(),
    path: z.string().min(1).optional(),
    schema: z.string().default(''),
    table: z.string().default(''),
    // A template such as '$3' is checked once filled in, for each file the pattern matches.
    type: z.string().refine((type) => type.includes('$') || (fileRuleTypes as readonly string[]).includes(type.trim().toLowerCase()), {
      message: `must be one of ${fileRuleTypes.join(', ')}, or a template of the pattern's groups such as '$3'`,
    }),
    key: z.string().default(''),
    compression: z.enum(['', 'gz', 'gzip', 'zstd', 'zst', 'snappy']).default(''),
  })
  .strict()
  .transform(({ path, pattern, ...rule }, ctx) => {
    if ((pattern === undefined) === (path === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give either pattern (a regular expression) or path (one file), not both or neither' });
      return z.NEVER;
    }
    return { ...rule, pattern: pattern ?? exactPathPattern(path!) };
  });

function exactPathPattern(filePath: string): string {
  return `^${filePath.replace(/[.*+?^$|()[\]{}\\]/g, (char) => `\\${char}`)}$`;
}

const mydumper = z
  .object({
    'data-source-dir': z.string().min(1, 'is required: the folder of the dump to import'),
    'no-schema': z.boolean().default(false),
    'character-set': characterSet.default('auto'),
    'data-character-set': characterSet.default('binary'),
    'data-invalid-char-replace': z.string().default('\uFFFD'),
    'strict-format': z.boolean().default(false),
    'max-region-size': byteSize.default(256 * 1024 * 1024),
    'read-block-size': byteSize.default(64 * 1024),
    // Source bytes per engine, as Lightning groups a table's chunks.
    'batch-size': byteSize.default(100 * 1024 ** 3),
    filter: z
      .array(z.string())
      .default(['*.*', '!mysql.*', '!sys.*', '!INFORMATION_SCHEMA.*', '!PERFORMANCE_SCHEMA.*', '!METRICS_SCHEMA.*', '!INSPECTION_SCHEMA.*']),
    'case-sensitive': z.boolean().default(false),
    'default-file-rules': z.boolean().default(true),
    csv: csv.default(csv.parse({})),
    files: z.array(fileRule).default([]),
    'ignore-data-columns': z.array(z.unknown()).max(0, 'leaving columns out of the rows ([[mydumper.ignore-data-columns]]) is not supported by Tempest yet').optional(),
  })
  .strict()
  .superRefine((section, ctx) => {
    // The replacement goes into the converted stream before the rows are parsed: a character the
    // readers give a meaning to would change the rows around it (Lightning forbids the same).
    const { csv: options } = section;
    const special = new Set(["'", '"', '`', '\\', '\r', '\n', ...options.separator, ...options.delimiter, ...options.terminator, ...(options['escaped-by'] ?? '')]);
    const found = [...section['data-invalid-char-replace']].find((char) => special.has(char));
    if (section['data-character-set'] !== 'binary' && found !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['data-invalid-char-replace'],
        message: `must not contain ${JSON.stringify(found)}: quotes, backslashes, line breaks and the CSV separator, delimiter and terminator would be read as part of the file's structure`,
      });
    }
  });

const security = z
  .object({
    'ca-path': z.string().default(''),
    'cert-path': z.string().default(''),
    'key-path': z.string().default(''),
  })
  .strict();

const tidb = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(4000),
    user: z.string().default('root'),
    password: z.string().default(''),
    'sql-mode': z.string().default('STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO'),
    tls: z.enum(['', 'false', 'skip-verify', 'preferred', 'cluster']).default(''),
    'max-allowed-packet': byteSize.default(64 * 1024 * 1024),
    security: security.default(security.parse({})),
  })
  .strict();

const postRestore = z
  .object({
    checksum: postRestoreLevel.default('required'),
    analyze: postRestoreLevel.default('optional'),
  })
  .strict();

const route = z
  .object({
    'schema-pattern': z.string().min(1),
    'table-pattern': z.string().default(''),
    'target-schema': z.string().min(1),
    'target-table': z.string().default(''),
    'extract-table': notApplied('adding a column from the table name (extract-table)').optional(),
    'extract-schema': notApplied('adding a column from the schema name (extract-schema)').optional(),
    'extract-source': notApplied('adding a column from the source name (extract-source)').optional(),
  })
  .strict();

const cron = z
  .object({
    'log-progress': z.string().default('5m'),
  })
  .strict();

const temporal = z
  .object({
    /** Empty: start a local dev server and an in-process worker. */
    address: z.string().default(''),
    namespace: z.string().min(1).default('default'),
    'task-queue': z.string().min(1).default('tempest'),
    /** Where the embedded dev server keeps its SQLite history, so a restart resumes. */
    'state-dir': z.string().default(''),
    'dev-server-port': z.number().int().min(1).max(65535).default(7233),
    'dev-server-ui-port': z.number().int().min(1).max(65535).default(8233),
    /** How long a chunk may go silent before Temporal gives it to another worker: how fast a dead worker is noticed. */
    'heartbeat-timeout': z.string().regex(/^\d+(ms|s|m)$/, 'write a duration such as "20s"').default('20s'),
    /** Tables, engines or chunk groups one workflow run handles before it continues as new: what bounds every history. */
    'continue-as-new-after': z.number().int().min(1).max(1000).default(200),
    /**
     * How long the task may go on failing to make progress (the target down, a lock never released)
     * before it fails with the last error. Empty: retry forever.
     */
    'give-up-after': z.union([z.literal(''), z.string().regex(/^\d+(s|m|h)$/, 'write a duration such as "30m" or "2h", or "" to retry forever')]).default(''),
    /** The Web UI of a Temporal server of one's own (e.g. "https://temporal.example.com"), for the task's link; the embedded server's is known. */
    'web-ui': z.union([z.literal(''), z.string().url('write the Web UI\'s address, such as "http://temporal.example.com:8080"')]).default(''),
  })
  .strict();

export const configSchema = z
  .object({
    lightning: lightning.default(lightning.parse({})),
    checkpoint: checkpoint.default(checkpoint.parse({})),
    'tikv-importer': tikvImporter.default(tikvImporter.parse({})),
    conflict: conflict.default(conflict.parse({})),
    mydumper,
    tidb: tidb.default(tidb.parse({})),
    // Lightning's TLS files for every connection; [tidb.security], when given, wins for the target.
    security: security.optional(),
    'post-restore': postRestore.default(postRestore.parse({})),
    routes: z.array(route).default([]),
    cron: cron.default(cron.parse({})),
    temporal: temporal.default(temporal.parse({})),
  })
  .strict();

export type Config = z.output<typeof configSchema>;
