/**
 * Keys of a real `tidb-lightning.toml` that matter only to Lightning's physical (`local`) mode, to
 * its server (status port, web UI, pprof), to its own log files, or to PD and TiKV. A pasted config
 * carries them; a logical import has nothing to do with them, so they are accepted and named once,
 * never a reason to stop. Any other unknown key is still an error (it is likely a typo).
 */
const lightningOnlyKeys: Readonly<Record<string, readonly string[]>> = {
  lightning: ['status-addr', 'server-mode', 'pprof-port', 'max-size', 'max-days', 'max-backups', 'enable-diagnose-logs', 'meta-schema-name', 'max-error-records'],
  // Tempest stops at a syntax error, replaces undecodable characters (data-invalid-char-replace),
  // and takes duplicates from [conflict] threshold.
  'lightning.max-error': ['syntax', 'charset', 'conflict'],
  tidb: [
    'status-port',
    'pd-addr',
    'log-level',
    'build-stats-concurrency',
    'distsql-scan-concurrency',
    'index-serial-scan-concurrency',
    'checksum-table-concurrency',
    'session-vars',
  ],
  'tidb.security': ['redact-info-log'],
  security: ['redact-info-log'],
  'tikv-importer': [
    'addr',
    'max-kv-pairs',
    'send-kv-pairs',
    'send-kv-size',
    'compress-kv-pairs',
    'region-split-size',
    'region-split-keys',
    'region-split-batch-size',
    'region-split-concurrency',
    'region-check-backoff-limit',
    'sorted-kv-dir',
    'disk-quota',
    'range-concurrency',
    'duplicate-resolution',
    'incremental-import',
    'parallel-import',
    'keyspace-name',
    'engine-mem-cache-size',
    'local-writer-mem-cache-size',
    'store-write-bwlimit',
    'logical-import-prep-stmt',
    'pause-pd-scheduler-scope',
    'block-size',
  ],
  mydumper: ['batch-import-ratio', 'source-id'],
  conflict: ['precheck-conflict-before-import'],
  'post-restore': ['level-1-compact', 'compact', 'post-process-at-last', 'checksum-via-sql'],
  cron: ['switch-mode', 'check-disk-quota'],
};

/**
 * Takes Lightning's own keys out of a parsed config (before it is validated) and returns their
 * names, `[section] key`, in the file's order.
 */
export function setAsideLightningOnlyKeys(raw: Record<string, unknown>): string[] {
  const found: string[] = [];
  for (const [sectionPath, keys] of Object.entries(lightningOnlyKeys)) {
    const section = sectionPath.split('.').reduce<unknown>((node, name) => (isTable(node) ? node[name] : undefined), raw);
    if (!isTable(section)) continue;
    for (const key of Object.keys(section)) {
      if (!keys.includes(key)) continue;
      delete section[key];
      found.push(`[${sectionPath}] ${key}`);
    }
  }
  return found;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
