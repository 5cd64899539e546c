/**
 * The start-up check of a node's file (lib/storage/store-check.ts) on both cores: SQLite's
 * `quick_check` runs in a short-lived process of its own, reading the file, while this one
 * checks the tables (kv against the log); the node goes on only with both answers. On a store
 * of 2 million transactions (725 MB) quick_check is about 0.9 s of CPU and the table check
 * 0.45 s: in series they were most of a restart's time to /health (issue 13's 2 s target).
 * A separate process rather than a worker thread: a thread's SQLite cache and V8 heap stay in
 * this process's memory after it ends (measured +7 MB of RSS), a process's do not. If that
 * process cannot run or answer, this one runs quick_check itself: the check is never skipped.
 */
import { execFile } from 'node:child_process';
import { checkStructure, checkTables } from '../storage/store-check.ts';
import type { Sqlite } from '../storage/database.ts';
import { entryArgs } from '../util/package-root.ts';

/** Largest answer read from the checking process (a JSON array of at most a few problems). */
const structure_answer_max_bytes = 1024 * 1024;

/** What is wrong with the node's file `file`, open as `sqlite`; empty when nothing is. */
export async function checkStoreAtStart(sqlite: Sqlite, file: string): Promise<readonly string[]> {
  const apart = checkStructureApart(file);
  const tables = checkTables(sqlite);
  const structural = (await apart) ?? checkStructure(sqlite);
  return structural.length > 0 ? structural : tables;
}

/** quick_check's problems from a process of its own; undefined when it did not answer. */
function checkStructureApart(file: string): Promise<readonly string[] | undefined> {
  return new Promise((resolve) => {
    try {
      execFile(process.execPath, [...entryArgs('lib/boot/store-structure-main'), file], { maxBuffer: structure_answer_max_bytes, windowsHide: true }, (error, stdout) => {
        resolve(error === null ? parseProblems(stdout) : undefined);
      });
    } catch {
      resolve(undefined);
    }
  });
}

function parseProblems(text: string): readonly string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}
