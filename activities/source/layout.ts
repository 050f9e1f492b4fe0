import fs from 'node:fs/promises';
import path from 'node:path';
import { nonRetryable } from '../failures';
import { checkTemplate, compileGoPattern, expandTemplate } from './file-rule-pattern';
import type { Compression, DataFile, DataFileType, SourceLayout, SourceTable } from './layout-types';

export const fileRuleTypes = ['sql', 'csv', 'parquet', 'schema-schema', 'table-schema', 'view-schema', 'ignore'] as const;
export type FileRuleType = (typeof fileRuleTypes)[number];

/**
 * `[[mydumper.files]]`: maps a path (a Go regular expression, relative to the source dir) to what
 * the file is; `schema`, `table`, `type`, `key` and `compression` may use the pattern's groups (`$1`).
 */
export interface FileRule {
  pattern: string;
  schema: string;
  table: string;
  type: string;
  key: string;
  compression: string;
}

interface Classified {
  type: FileRuleType;
  schema: string;
  table: string;
  key: string;
  compression: Compression;
}

const compressionSuffix = '(?:\\.(gz|gzip|zst|zstd|snappy))?';

/** The Dumpling / mydumper naming convention (LIGHTNING-COMPAT.md §1); names are percent-escaped. */
const defaultRules: Array<{ regex: RegExp; classify: (m: RegExpExecArray) => Classified | undefined }> = [
  {
    regex: new RegExp(`^([^.]+)-schema-create\\.sql${compressionSuffix}$`, 'i'),
    classify: (m) => ({ type: 'schema-schema', schema: unescapeName(m[1]), table: '', key: '', compression: compressionOf(m[2]) }),
  },
  {
    regex: new RegExp(`^([^.]+)\\.(.+)-schema-view\\.sql${compressionSuffix}$`, 'i'),
    classify: (m) => ({ type: 'view-schema', schema: unescapeName(m[1]), table: unescapeName(m[2]), key: '', compression: compressionOf(m[3]) }),
  },
  {
    regex: new RegExp(`^([^.]+)\\.(.+)-schema-(?:trigger|post)\\.sql${compressionSuffix}$`, 'i'),
    classify: () => undefined,
  },
  {
    regex: new RegExp(`^([^.]+)\\.(.+)-schema\\.sql${compressionSuffix}$`, 'i'),
    classify: (m) => ({ type: 'table-schema', schema: unescapeName(m[1]), table: unescapeName(m[2]), key: '', compression: compressionOf(m[3]) }),
  },
  {
    regex: new RegExp(`^([^.]+)\\.(.+?)(?:\\.(\\d+))?\\.(sql|csv|parquet)${compressionSuffix}$`, 'i'),
    classify: (m) => ({
      type: m[4].toLowerCase() as DataFileType,
      schema: unescapeName(m[1]),
      table: unescapeName(m[2]),
      key: m[3] ?? '',
      compression: compressionOf(m[5]),
    }),
  },
];

/** Lists the dump: databases, tables with their schema and data files, views. Reads names and sizes, not contents. */
export async function scanSourceDir(sourceDir: string, rules: readonly FileRule[], useDefaultRules: boolean): Promise<SourceLayout> {
  const files = await listFiles(sourceDir);
  const compiledRules = rules.map((rule) => ({ rule, regex: compileRule(rule) }));
  const databases = new Map<string, string | undefined>();
  const tables = new Map<string, SourceTable>();
  const views: SourceLayout['views'] = [];
  const tableOf = (schema: string, name: string): SourceTable => {
    const id = JSON.stringify([schema, name]);
    let table = tables.get(id);
    if (!table) {
      table = { schema, name, dataFiles: [] };
      tables.set(id, table);
    }
    if (!databases.has(schema)) databases.set(schema, undefined);
    return table;
  };

  for (const file of files) {
    const relative = path.relative(sourceDir, file.path).split(path.sep).join('/');
    const classified = classifyByRules(relative, compiledRules) ?? (useDefaultRules ? classifyByDefault(path.basename(file.path)) : undefined);
    if (!classified || classified.type === 'ignore') continue;
    switch (classified.type) {
      case 'schema-schema':
        databases.set(classified.schema, file.path);
        break;
      case 'table-schema':
        tableOf(classified.schema, classified.table).schemaFile = file.path;
        break;
      case 'view-schema':
        views.push({ schema: classified.schema, name: classified.table, schemaFile: file.path });
        if (!databases.has(classified.schema)) databases.set(classified.schema, undefined);
        break;
      default: {
        const dataFile: DataFile = { ...file, type: classified.type, key: classified.key, compression: classified.compression };
        tableOf(classified.schema, classified.table).dataFiles.push(dataFile);
      }
    }
  }
  const viewIds = new Set(views.map((view) => JSON.stringify([view.schema, view.name])));
  return {
    databases: [...databases].map(([name, schemaFile]) => ({ name, schemaFile })),
    // Dumpling writes a placeholder table schema next to each view's file: the view is not a table.
    tables: [...tables]
      .filter(([id, table]) => !viewIds.has(id) || table.dataFiles.length > 0)
      .map(([, table]) => ({ ...table, dataFiles: table.dataFiles.sort(compareDataFiles) })),
    views,
  };
}

async function listFiles(dir: string): Promise<Array<{ path: string; size: number; mtimeMs: number }>> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw nonRetryable('ConfigError', `[mydumper] data-source-dir: cannot read ${dir}: ${(error as Error).message}`);
  }
  const found: Array<{ path: string; size: number; mtimeMs: number }> = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listFiles(full)));
    else if (entry.isFile() || entry.isSymbolicLink()) {
      const stat = await fs.stat(full);
      if (stat.isFile()) found.push({ path: full, size: stat.size, mtimeMs: Math.trunc(stat.mtimeMs) });
    }
  }
  return found;
}

function classifyByDefault(basename: string): Classified | undefined {
  if (basename === 'metadata') return undefined;
  for (const { regex, classify } of defaultRules) {
    const match = regex.exec(basename);
    if (match) return classify(match);
  }
  return undefined;
}

function compileRule(rule: FileRule): RegExp {
  try {
    const compiled = compileGoPattern(rule.pattern);
    for (const template of [rule.schema, rule.table, rule.type, rule.key, rule.compression]) checkTemplate(template, compiled);
    return compiled.regex;
  } catch (error) {
    throw nonRetryable('ConfigError', `[[mydumper.files]] rule with pattern "${rule.pattern}": ${(error as Error).message}`);
  }
}

function classifyByRules(relativePath: string, rules: Array<{ rule: FileRule; regex: RegExp }>): Classified | undefined {
  for (const { rule, regex } of rules) {
    const match = regex.exec(relativePath);
    if (!match) continue;
    const expand = (template: string) => expandTemplate(template, match);
    return {
      type: fileRuleType(expand(rule.type), rule, relativePath),
      schema: expand(rule.schema),
      table: expand(rule.table),
      key: expand(rule.key),
      compression: rule.compression ? compressionOf(expand(rule.compression)) : compressionOfPath(relativePath),
    };
  }
  return undefined;
}

/** A rule's type once its groups are filled in; Lightning reads it case-insensitively. */
function fileRuleType(expanded: string, rule: FileRule, relativePath: string): FileRuleType {
  const type = expanded.trim().toLowerCase();
  if ((fileRuleTypes as readonly string[]).includes(type)) return type as FileRuleType;
  throw nonRetryable(
    'ConfigError',
    `[[mydumper.files]] rule with pattern "${rule.pattern}": its type "${rule.type}" gives "${expanded}" for ${relativePath}, which is not one of ${fileRuleTypes.join(', ')}. ` +
      'Narrow the pattern so it matches only such files, or add a rule of type "ignore" before it.',
  );
}

/** The compression a file name's suffix says. */
export function compressionOfPath(filePath: string): Compression {
  return compressionOf(/\.(gz|gzip|zst|zstd|snappy)$/i.exec(filePath)?.[1]);
}

function compressionOf(suffix: string | undefined): Compression {
  switch (suffix?.toLowerCase()) {
    case 'gz':
    case 'gzip':
      return 'gzip';
    case 'zst':
    case 'zstd':
      return 'zstd';
    case 'snappy':
      return 'snappy';
    default:
      return 'none';
  }
}

/** Dumpling writes bytes outside a safe set as %XX; decode them as UTF-8. */
export function unescapeName(name: string): string {
  return name.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

/** Data files in the order a dump wrote them: by numeric sequence, then by name. */
function compareDataFiles(a: DataFile, b: DataFile): number {
  const byKey = (Number(a.key) || 0) - (Number(b.key) || 0);
  return byKey !== 0 ? byKey : a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
