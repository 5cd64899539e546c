/**
 * A node's data folder belongs to one process at a time. The lock is a write transaction
 * held open for the process's life on a small SQLite file of its own (`lock.sqlite`): SQLite
 * takes it with an advisory lock on that file's inode, so a second process on the same
 * folder (also through a symlink, or a copy of the path) is refused, and the operating
 * system releases it when the holder dies, `kill -9` included, so a crash never leaves a
 * stale lock behind. Who holds it is written next to it (`lock.holder.json`) for the
 * refusal's message.
 */
import Database from 'better-sqlite3';
import { readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FolderLock {
  /** The folder as given, and where it really is (symlinks resolved). */
  readonly dir: string;
  release(): void;
}

/** Who holds a folder: what a refused second start names. */
export interface FolderHolder {
  readonly addr: string;
  readonly pid: number;
  readonly since: string;
}

export const lock_file_name = 'lock.sqlite';
export const holder_file_name = 'lock.holder.json';

/** A folder another live process holds. */
export class FolderBusyError extends Error {
  override readonly name = 'FolderBusyError';
}

/**
 * Take `dir` (which must exist) for `addr` for as long as this process lives or until
 * `release()`. Throws `FolderBusyError` naming the folder and its holder when another
 * process (or another node in this one) has it.
 */
export function lockFolder(dir: string, addr: string): FolderLock {
  const real = realpathSync(dir);
  const named = real === dir ? dir : `${dir} (${real})`;
  const sqlite = new Database(join(dir, lock_file_name), { timeout: 0 });
  try {
    sqlite.pragma('journal_mode = DELETE');
    sqlite.exec('create table if not exists held (since text)');
    sqlite.exec('begin immediate');
  } catch (error) {
    sqlite.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY' || (error as { code?: string }).code === 'SQLITE_LOCKED') {
      throw new FolderBusyError(`data folder ${named} is in use by ${describeHolder(readHolder(dir))}; one folder serves one node`);
    }
    throw error;
  }
  writeHolder(dir, { addr, pid: process.pid, since: new Date().toISOString() });
  let released = false;
  return {
    dir: real,
    release: () => {
      if (released) return;
      released = true;
      sqlite.close();
    },
  };
}

function writeHolder(dir: string, holder: FolderHolder): void {
  const file = join(dir, holder_file_name);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(holder)}\n`);
  renameSync(`${file}.tmp`, file);
}

function readHolder(dir: string): FolderHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(join(dir, holder_file_name), 'utf8')) as Partial<FolderHolder>;
    return typeof holder.addr === 'string' && typeof holder.pid === 'number' && typeof holder.since === 'string' ? (holder as FolderHolder) : undefined;
  } catch {
    return undefined;
  }
}

function describeHolder(holder: FolderHolder | undefined): string {
  return holder === undefined ? 'another process (holder unknown)' : `node ${holder.addr} (pid ${holder.pid}, since ${holder.since})`;
}
