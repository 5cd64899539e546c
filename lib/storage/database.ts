import Database from 'better-sqlite3';
import { mkdirSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type * as KyselyModule from 'kysely';
import type { Tables } from './schema.ts';

/**
 * Kysely through its CommonJS build, not its ES modules: the same code, but each of its ~980
 * files as an ES module costs a module record, namespace and link; measured in an empty
 * Node 20 process, `import 'kysely'` adds 17 MB of RSS and `require('kysely')` 11 MB (issue 12,
 * bench/README.md "Runtime footprint"). This file is the only one that loads Kysely's values.
 */
const { Kysely, SqliteDialect, sql } = createRequire(import.meta.url)('kysely') as typeof KyselyModule;

export type Db = KyselyModule.Kysely<Tables>;

export type Sqlite = Database.Database;

export interface OpenedDatabase {
  readonly db: Db;
  /** The same connection without Kysely, for the hot path's prepared statements. */
  readonly sqlite: Sqlite;
  readonly file: string;
  close(): Promise<void>;
}

/** The folder a node keeps its files in: `<dataDir>/<host>_<port>/`. */
export function resolveNodeDir(dataDir: string, addr: string): string {
  return join(dataDir, addr.replace(/[^A-Za-z0-9.-]/g, '_'));
}

/**
 * Open (creating if needed) a node's SQLite file in WAL mode with `synchronous=FULL`:
 * a transaction that returned is on disk. Throws with a readable message when the
 * folder cannot be created or written.
 */
/** The node's SQLite file inside its folder. */
export const store_file_name = 'twopc.sqlite';

/**
 * Most memory SQLite's page cache of the node's connection may hold. better-sqlite3's build
 * defaults to 16 MB, and the start-up audit (which reads every committed row) fills it on
 * any store that large: measured on a 300 000-transaction store (100 MB file), reading
 * every row grows RSS by 22–24 MB with 16 MB and by 7 MB with 2 MB, and 100 000 random
 * point reads take the same time either way (2.6–3.7 s, noise of a shared machine): the
 * pages SQLite drops stay in the operating system's file cache (bench/README.md, issue 12).
 */
export const sqlite_page_cache_max_kib = 2_048;

export async function openDatabase(dir: string): Promise<OpenedDatabase> {
  mkdirSync(dir, { recursive: true });
  accessSync(dir, constants.W_OK);
  const file = join(dir, store_file_name);
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`cache_size = -${sqlite_page_cache_max_kib}`);
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrate(db);
  return {
    db,
    sqlite,
    file,
    close: async () => {
      await db.destroy();
    },
  };
}

async function migrate(db: Db): Promise<void> {
  await db.schema
    .createTable('meta')
    .ifNotExists()
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('kv')
    .ifNotExists()
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text')
    .addColumn('sequence', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('transactions')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('PREPARED', 'COMMITTED', 'ABORTED')`))
    .addColumn('payload', 'text')
    .addColumn('sequence', 'integer', (c) => c.unique())
    .addColumn('coordinator', 'text')
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('participants', 'text')
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('transactions_by_state')
    .ifNotExists()
    .on('transactions')
    .columns(['state', 'sequence'])
    .execute();
  await db.schema
    .createTable('decisions')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('decision', 'text', (c) => c.notNull().check(sql`decision in ('COMMIT', 'ABORT')`))
    .addColumn('sequence', 'integer', (c) => c.unique())
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('participants', 'text', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('terms')
    .ifNotExists()
    .addColumn('epoch', 'integer', (c) => c.primaryKey())
    .addColumn('master', 'text', (c) => c.notNull())
    .addColumn('since', 'integer', (c) => c.notNull())
    .execute();
}
