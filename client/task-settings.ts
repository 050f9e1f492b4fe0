import crypto from 'node:crypto';
import path from 'node:path';
import type { TargetSettings } from '../activities/database/connection';
import { CHECKSUM_VERSION } from '../activities/database/row-checksum';
import { INSERT_BATCH_BYTES } from '../activities/import-chunk';
import type { ImportTaskInput } from '../workflows/definitions';
import type { Config } from './config/schema';

/** What the workflow is given: everything but secrets. */
export function taskSettingsOf(config: Config): ImportTaskInput['settings'] {
  const { lightning, mydumper, tidb } = config;
  const importer = config['tikv-importer'];
  const csv = mydumper.csv;
  const conflictStrategy = config.conflict.strategy;
  return {
    sourceDir: mydumper['data-source-dir'],
    noSchema: mydumper['no-schema'],
    filter: mydumper.filter,
    caseSensitive: mydumper['case-sensitive'],
    fileRules: mydumper.files,
    defaultFileRules: mydumper['default-file-rules'],
    routes: config.routes.map((route) => ({
      schemaPattern: route['schema-pattern'],
      tablePattern: route['table-pattern'],
      targetSchema: route['target-schema'],
      targetTable: route['target-table'],
    })),
    csv: {
      separator: csv.separator,
      delimiter: csv.delimiter,
      terminator: csv.terminator,
      header: csv.header,
      notNull: csv['not-null'],
      null: csv.null,
      backslashEscape: csv['backslash-escape'],
      trimLastSeparator: csv['trim-last-separator'],
      escapedBy: csv['escaped-by'],
    },
    csvHeaderSchemaMatch: csv['header-schema-match'],
    strictFormat: mydumper['strict-format'],
    dataCharacterSet: mydumper['data-character-set'],
    dataInvalidCharReplace: mydumper['data-invalid-char-replace'],
    characterSet: mydumper['character-set'],
    maxRegionSize: mydumper['max-region-size'],
    batchSize: mydumper['batch-size'],
    readBlockSize: mydumper['read-block-size'],
    onDuplicate: conflictStrategy === '' ? importer['on-duplicate'] : conflictStrategy,
    batchBytes: batchBytesOf(importer['logical-import-batch-size'], tidb['max-allowed-packet']),
    batchRows: importer['logical-import-batch-rows'],
    writeMethod: importer['logical-import-method'],
    deferIndexes: importer['add-index-by-sql'],
    maxError: lightning['max-error'],
    conflictThreshold: config.conflict.threshold ?? 0,
    taskInfoSchema: lightning['task-info-schema-name'],
    checksum: config['post-restore'].checksum,
    checksumVersion: CHECKSUM_VERSION,
    analyze: config['post-restore'].analyze,
    checkRequirements: lightning['check-requirements'],
    tableConcurrency: lightning['table-concurrency'],
    continueAsNewAfter: config.temporal['continue-as-new-after'],
    regionConcurrency: lightning['region-concurrency'],
    checkpoint: {
      enable: config.checkpoint.enable,
      driver: config.checkpoint.driver,
      schema: config.checkpoint.schema,
      file: config.checkpoint.driver === 'file' ? path.resolve(config.checkpoint.dsn || '/tmp/tidb_lightning_checkpoint.pb') : '',
      keepAfterSuccess: config.checkpoint['keep-after-success'],
    },
    chunkHeartbeatTimeout: config.temporal['heartbeat-timeout'],
    giveUpAfter: config.temporal['give-up-after'] || undefined,
    target: { host: tidb.host, port: tidb.port, user: tidb.user },
  };
}

/** The connection secrets: handed to the worker in memory, never to Temporal. */
export function targetSettingsOf(config: Config): TargetSettings {
  const { tidb } = config;
  return {
    host: tidb.host,
    port: tidb.port,
    user: tidb.user,
    password: tidb.password,
    sqlMode: tidb['sql-mode'],
    tls: tidb.tls,
    caPath: tidb.security['ca-path'],
    certPath: tidb.security['cert-path'],
    keyPath: tidb.security['key-path'],
    maxAllowedPacket: tidb['max-allowed-packet'],
  };
}

/**
 * One workflow id per (source, target): starting the same import again attaches to the running
 * task instead of starting a second one that would write the same rows.
 */
export function taskWorkflowId(config: Config): string {
  const identity = JSON.stringify([config.mydumper['data-source-dir'], config.tidb.host, config.tidb.port, config.mydumper.filter, config.routes]);
  const digest = crypto.createHash('sha256').update(identity).digest('hex').slice(0, 12);
  const name = path.basename(config.mydumper['data-source-dir']).replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
  return `tempest-import-${name}-${digest}`;
}

/**
 * `[tidb] max-allowed-packet` bounds each statement sent. An INSERT is at most about twice its
 * rows' bytes (every byte escaped) and goes one row past the batch size, so batches are kept to a
 * quarter of the packet when that is less than the batch size set, or than the INSERT default
 * (LOAD DATA streams its rows in packets of its own, so its larger default batch needs no cap).
 */
function batchBytesOf(batchSize: number | undefined, maxAllowedPacket: number): number | undefined {
  const fitting = Math.floor(maxAllowedPacket / 4);
  if (batchSize !== undefined) return Math.min(batchSize, fitting);
  return fitting < INSERT_BATCH_BYTES ? fitting : undefined;
}
