/**
 * The start-up check of a node's file (lib/storage/store-check.ts). On a large file, on both
 * cores: SQLite's `quick_check` runs in a short-lived process of its own, reading the file,
 * while this one checks the tables (kv against the log); the node goes on only with both
 * answers. On a store of 2 million transactions (725 MB) quick_check is about 0.9 s of CPU and
 * the table check 0.45 s: in series they were most of a restart's time to /health (issue 13's
 * 2 s target). A separate process rather than a worker thread: a thread's SQLite cache and V8
 * heap stay in this process's memory after it ends (measured +7 MB of RSS), a process's do not.
 * If that process cannot run or answer, this one runs quick_check itself: the check is never
 * skipped. On a file (with its WAL) below `store_check_apart_min_bytes` this process runs
 * quick_check itself from the start: there the check takes less than starting a Node process.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { checkStructure, checkTables, judgeStore } from '../storage/store-check.ts';
import type { CommittedSummary } from '../storage/stores.ts';
import type { Sqlite } from '../storage/database.ts';
import { entryArgs } from '../util/package-root.ts';

/**
 * Smallest file (database plus WAL) whose quick_check runs in a process of its own. Measured
 * on 2 Dec (shared 2-core machine, compiled code), quick_check in this process against the
 * process apart (its start plus its check): 62 MB 0.10–0.12 s against 0.20–0.25 s, 125 MB
 * 0.20–0.37 s against 0.33–0.62 s, 254 MB 0.38–0.66 s against 0.56–0.78 s. The process apart
 * overlaps the table check (about half of quick_check's time), so it starts paying near 128
 * MiB; below, it would cost a Node start (about 40 MB of RSS, 0.1 s of CPU) for nothing.
 */
export const store_check_apart_min_bytes = 128 * 1024 * 1024;

/** Largest answer read from the checking process (a JSON array of at most a few problems). */
const structure_answer_max_bytes = 1024 * 1024;

/** Where and from what size quick_check runs apart; tests pass a small size or an entry that cannot answer. */
export interface StoreCheckPlace {
  readonly apart_min_bytes: number;
  /** Entry point of the checking process, relative to the code root, without extension. */
  readonly apart_entry: string;
}

const shipped_place: StoreCheckPlace = { apart_min_bytes: store_check_apart_min_bytes, apart_entry: 'lib/boot/store-structure-main' };

/** The start-up check's verdict on a node's file. */
export interface StartCheck {
  /** What is wrong with the file; empty when nothing is. */
  readonly problems: readonly string[];
  /**
   * What the table check counted of the committed log, which the node reads again otherwise
   * (lib/node/open-node.ts; nothing writes the file between the two); undefined if it could not count.
   */
  readonly committed: CommittedSummary | undefined;
}

/** Check the node's file `file`, open as `sqlite`. */
export async function checkStoreAtStart(sqlite: Sqlite, file: string, place: StoreCheckPlace = shipped_place): Promise<StartCheck> {
  const apart = (await measureStore(file)) >= place.apart_min_bytes ? checkStructureApart(file, place.apart_entry) : Promise.resolve(undefined);
  const tables = checkTables(sqlite);
  const structural = (await apart) ?? checkStructure(sqlite);
  return { problems: judgeStore(structural, tables.problems), committed: tables.committed };
}

/** Bytes of the file and its WAL; a file that cannot be read counts as large (the check goes apart, and falls back here). */
async function measureStore(file: string): Promise<number> {
  const sizes = await Promise.all([file, `${file}-wal`].map((path) => stat(path).then((stats) => stats.size, () => (path === file ? Number.POSITIVE_INFINITY : 0))));
  return sizes.reduce((total, size) => total + size, 0);
}

/** quick_check's problems from a process of its own; undefined when it did not answer. */
function checkStructureApart(file: string, entry: string): Promise<readonly string[] | undefined> {
  return new Promise((resolve) => {
    try {
      execFile(process.execPath, [...entryArgs(entry), file], { maxBuffer: structure_answer_max_bytes, windowsHide: true }, (error, stdout) => {
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
