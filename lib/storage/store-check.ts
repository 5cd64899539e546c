/**
 * Is a node's SQLite file fit to serve from? Checked at every start, before the node joins:
 * SQLite's own `quick_check` (b-tree pages, records, free list), then what twopc knows must
 * hold between its tables: every `kv` row was written by a COMMITTED transaction at that
 * row's sequence, and no row is newer than the log's last sequence. A file that fails
 * either is not served from: a replica that joins broken answers 500 to reads and ABORT to
 * every prepare, and so stops every write in the cluster.
 */
import type { Sqlite } from './database.ts';

/** Most problems a check reports (SQLite's own check stops there too). */
export const store_problems_max = 5;

/** What is wrong with the file; empty when nothing is. Never throws: an unreadable file is a problem too. */
export function checkStore(sqlite: Sqlite): readonly string[] {
  try {
    const structural = runQuickCheck(sqlite);
    if (structural.length > 0) return structural;
    return checkKvAgainstLog(sqlite);
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
}

function runQuickCheck(sqlite: Sqlite): readonly string[] {
  const rows = sqlite.pragma(`quick_check(${store_problems_max})`) as { quick_check: string }[];
  const problems = rows.map((row) => row.quick_check).filter((text) => text !== 'ok');
  return problems;
}

/** Every kv row names a COMMITTED transaction at its own sequence, and none is above the log's last. */
function checkKvAgainstLog(sqlite: Sqlite): readonly string[] {
  const problems: string[] = [];
  const last = (sqlite.prepare(`select coalesce(max(sequence), 0) as last from transactions where state = 'COMMITTED'`).get() as { last: number }).last;
  const orphans = sqlite
    .prepare(
      `select kv.key as key, kv.sequence as sequence from kv left join transactions t on t.sequence = kv.sequence and t.state = 'COMMITTED'
       where t.id is null limit ${store_problems_max}`,
    )
    .all() as { key: string; sequence: number }[];
  for (const row of orphans) {
    problems.push(row.sequence > last ? `kv row ${JSON.stringify(row.key)} is at sequence ${row.sequence}, above the log's last ${last}` : `kv row ${JSON.stringify(row.key)} is at sequence ${row.sequence}, which no committed transaction holds`);
  }
  return problems;
}
