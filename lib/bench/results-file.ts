/**
 * Every benchmark run is recorded as `<results dir>/<ISO timestamp>.json` (by default
 * bench/results/ under the current directory): the results committed to the repository
 * are the project's performance record.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const results_dir_default = 'bench/results';

/** Writes `result` and returns the file's path. Colons are left out of the name (portable file names). */
export function writeResultsFile(dir: string, started_at: string, result: unknown): string {
  const folder = resolve(dir);
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `${started_at.replace(/:/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
