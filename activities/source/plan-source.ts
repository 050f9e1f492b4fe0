import { scanSourceDir } from './layout';
import { wildcardToRegExp } from './name-pattern';
import { compileTableFilter } from './table-filter';
import { tableKey } from '../target/sql-text';
import type { DatabasePlan, Route, SourcePlan, TablePlan, TaskSettings } from '../task-types';

/**
 * What the task will import: the dump's databases, tables and views after `filter`, with each source
 * table mapped to its target by `[[routes]]` (several shards may land in one target table).
 */
export async function planSource(settings: TaskSettings): Promise<SourcePlan> {
  const layout = await scanSourceDir(settings.sourceDir, settings.fileRules, settings.defaultFileRules);
  const included = compileTableFilter(settings.filter, settings.caseSensitive);
  const route = compileRoutes(settings.routes, settings.caseSensitive);

  const tables = new Map<string, TablePlan>();
  for (const table of layout.tables) {
    if (!included(table.schema, table.name)) continue;
    const [schema, name] = route(table.schema, table.name);
    const key = tableKey(schema, name);
    const plan = tables.get(key) ?? { key, schema, name, schemaFiles: [], schemaCharacterSet: settings.characterSet, dataFiles: [], totalBytes: 0 };
    if (table.schemaFile) plan.schemaFiles.push(table.schemaFile);
    plan.dataFiles.push(...table.dataFiles);
    plan.totalBytes += table.dataFiles.reduce((sum, file) => sum + file.size, 0);
    tables.set(key, plan);
  }

  const databases = new Map<string, DatabasePlan>();
  for (const table of tables.values()) {
    // A routed database has a new name: its source CREATE DATABASE does not apply.
    const schemaFile = layout.databases.find((db) => db.name === table.schema)?.schemaFile;
    if (!databases.has(table.schema)) databases.set(table.schema, { name: table.schema, schemaFile, schemaCharacterSet: settings.characterSet });
  }
  const views = layout.views
    .filter((view) => included(view.schema, view.name))
    .map((view) => {
      const [schema, name] = route(view.schema, view.name);
      if (!databases.has(schema)) databases.set(schema, { name: schema });
      return { key: tableKey(schema, name), schema, name, schemaFile: view.schemaFile, schemaCharacterSet: settings.characterSet };
    });
  return { databases: [...databases.values()], tables: [...tables.values()], views };
}

function compileRoutes(routes: readonly Route[], caseSensitive: boolean): (schema: string, table: string) => [string, string] {
  const compiled = routes.map((route) => ({
    route,
    schema: wildcardToRegExp(route.schemaPattern, caseSensitive),
    table: route.tablePattern ? wildcardToRegExp(route.tablePattern, caseSensitive) : undefined,
  }));
  return (schema, table) => {
    for (const { route, schema: schemaPattern, table: tablePattern } of compiled) {
      if (!schemaPattern.test(schema)) continue;
      if (tablePattern && !tablePattern.test(table)) continue;
      return [route.targetSchema, tablePattern && route.targetTable ? route.targetTable : table];
    }
    return [schema, table];
  };
}
