/**
 * Whether a program the benchmark can use (wrk, etcd, PostgreSQL's binaries) is installed:
 * the first executable file of that name in the given directories, then on PATH.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path of `name` in `dirs` (searched first, in order) or on PATH; undefined when there is none. */
export function findExecutable(name: string, dirs: readonly string[] = []): string | undefined {
  const path_dirs = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '');
  return [...dirs, ...path_dirs].map((dir) => join(dir, name)).find(isExecutable);
}
