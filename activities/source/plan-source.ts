import { nonRetryable } from '../failures';
import { scanSourceDir } from './layout';
import { wildcardToRegExp } from './name-pattern';
import { compileTableFilter } from './table-filter';
import { tableKey } from '../database/sql-text';
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
    const plan = tables.get(key) ?? { key, schema, name, schemaFiles: [], schemaSources: [], schemaCharacterSet: settings.characterSet, dataFiles: [], totalBytes: 0 };
    // With no-schema the target tables exist already: the dump's schema files are not used.
    if (table.schemaFile && !settings.noSchema) {
      plan.schemaFiles.push(table.schemaFile);
      plan.schemaSources?.push(tableKey(table.schema, table.name));
    }
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
  // A database of the dump with no table (or none left by the filter) is still created, as Lightning does.
  for (const database of layout.databases) {
    if (!included(database.name, '')) continue;
    const [schema] = route(database.name, '');
    if (!databases.has(schema)) databases.set(schema, { name: schema, schemaFile: schema === database.name ? database.schemaFile : undefined, schemaCharacterSet: settings.characterSet });
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

/**
 * `[[routes]]` as Lightning's table router applies them: a rule with a table-pattern wins over a
 * schema-only rule, whatever their order; two rules of the same kind matching one table is an
 * error, since the table would have two targets.
 */
function compileRoutes(routes: readonly Route[], caseSensitive: boolean): (schema: string, table: string) => [string, string] {
  const compiled = routes.map((route) => {
    if (!route.tablePattern && route.targetTable) {
      throw nonRetryable('ConfigError', `[[routes]] schema-pattern = "${route.schemaPattern}": target-table = "${route.targetTable}" needs a table-pattern (a rule without one routes whole schemas)`);
    }
    return { route, schema: wildcardToRegExp(route.schemaPattern, caseSensitive), table: route.tablePattern ? wildcardToRegExp(route.tablePattern, caseSensitive) : undefined };
  });
  const describe = (rule: (typeof compiled)[number]) => `{schema-pattern = "${rule.route.schemaPattern}", table-pattern = "${rule.route.tablePattern}"}`;
  return (schema, table) => {
    const matching = compiled.filter((rule) => rule.schema.test(schema) && (!rule.table || rule.table.test(table)));
    const tableRules = matching.filter((rule) => rule.table);
    const rules = tableRules.length > 0 ? tableRules : matching;
    if (rules.length > 1) {
      throw nonRetryable('ConfigError', `[[routes]]: ${tableKey(schema, table)} matches ${rules.length} rules (${rules.map(describe).join(', ')}); make the patterns exclusive so each table has one target`);
    }
    if (rules.length === 0) return [schema, table];
    const { route } = rules[0];
    return [route.targetSchema, route.targetTable || table];
  };
}
