import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { setAsideLightningOnlyKeys } from './lightning-only-keys';
import { configSchema, type Config } from './schema';
import { UserError } from '../user-error';

/** Command-line flags of `tidb-lightning` that override the file (LIGHTNING-COMPAT.md §2). */
export interface ConfigOverrides {
  sourceDir?: string;
  logLevel?: string;
  filter?: string[];
  backend?: string;
  tidbHost?: string;
  tidbPort?: number;
  tidbUser?: string;
  tidbPassword?: string;
  checksum?: string;
  analyze?: string;
  checkRequirements?: boolean;
  enableCheckpoint?: boolean;
  temporalAddress?: string;
}

/**
 * Reads and validates a config; `warn` hears, in one line, the keys of Lightning's own that a
 * logical import does not use (see lightning-only-keys.ts).
 */
export function loadConfig(configPath: string | undefined, overrides: ConfigOverrides = {}, warn: (line: string) => void = () => undefined): Config {
  const raw = configPath ? readToml(configPath) : {};
  const notUsed = setAsideLightningOnlyKeys(raw);
  if (notUsed.length > 0) warn(`${configPath}: not used by a logical import, ignored: ${notUsed.join(', ')}`);
  const ownSecurity = 'security' in section(raw, 'tidb');
  applyOverrides(raw, overrides);
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const where = configPath ?? 'the command line';
    throw new UserError(`${where}: ${result.error.issues.map(describeIssue).join('; ')}`);
  }
  const config = result.data;
  if (config.security && !ownSecurity) config.tidb.security = config.security;
  config.mydumper['data-source-dir'] = path.resolve(config.mydumper['data-source-dir'].replace(/^file:\/\//, ''));
  if (config['tikv-importer'].backend === 'local') {
    throw new UserError(
      `${configPath ?? 'config'}: [tikv-importer] backend = "local" is TiKV's physical import; Tempest writes through SQL. Set backend = "tidb".`,
    );
  }
  return config;
}

function readToml(configPath: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(configPath, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read the config file ${configPath}: ${(error as Error).message}`);
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      throw new UserError(`${configPath}: line ${error.line}, column ${error.column}: ${error.message.split('\n')[0]}`);
    }
    throw error;
  }
}

function section(raw: Record<string, unknown>, name: string): Record<string, unknown> {
  const existing = raw[name];
  if (existing && typeof existing === 'object' && !Array.isArray(existing)) return existing as Record<string, unknown>;
  const created: Record<string, unknown> = {};
  raw[name] = created;
  return created;
}

function applyOverrides(raw: Record<string, unknown>, flags: ConfigOverrides): void {
  const set = (sectionName: string, key: string, value: unknown) => {
    if (value !== undefined) section(raw, sectionName)[key] = value;
  };
  set('mydumper', 'data-source-dir', flags.sourceDir);
  set('mydumper', 'filter', flags.filter && flags.filter.length > 0 ? flags.filter : undefined);
  set('lightning', 'level', flags.logLevel);
  set('lightning', 'check-requirements', flags.checkRequirements);
  set('tikv-importer', 'backend', flags.backend);
  set('tidb', 'host', flags.tidbHost);
  set('tidb', 'port', flags.tidbPort);
  set('tidb', 'user', flags.tidbUser);
  set('tidb', 'password', flags.tidbPassword);
  set('post-restore', 'checksum', flags.checksum);
  set('post-restore', 'analyze', flags.analyze);
  set('checkpoint', 'enable', flags.enableCheckpoint);
  set('temporal', 'address', flags.temporalAddress);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const [sectionName, ...rest] = issue.path.map(String);
  const where = sectionName === undefined ? '' : rest.length > 0 ? `[${sectionName}] ${rest.join('.')}` : `[${sectionName}]`;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((key) => (where ? `${where} ${key}` : `[${key}]`)).join(', ');
    return `unknown key ${keys} (check its spelling against the Lightning documentation)`;
  }
  const message = issue.message.replace(/^Invalid input: /, '');
  return `${where || 'config'}: ${message}`;
}
