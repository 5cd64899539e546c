/** Damage a real SQLite store the way a disk does, for tests of the start-up check. */
import Database from 'better-sqlite3';
import { closeSync, openSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/** Overwrite one leaf page of table `table` with random bytes, in a file nobody has open; returns the page number. */
export function overwriteLeafPage(file: string, table: string): number {
  const db = new Database(file);
  let page: number;
  let page_size: number;
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    page_size = db.pragma('page_size', { simple: true }) as number;
    const leaves = db.prepare(`select pageno from dbstat where name = ? and pagetype = 'leaf' order by pageno`).all(table) as { pageno: number }[];
    if (leaves.length < 2) throw new Error(`${table} spans ${leaves.length} leaf pages; the test needs more`);
    page = leaves[Math.floor(leaves.length / 2)]!.pageno;
  } finally {
    db.close();
  }
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, randomBytes(page_size), 0, page_size, (page - 1) * page_size);
  } finally {
    closeSync(fd);
  }
  return page;
}
