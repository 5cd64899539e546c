/**
 * The load generator of a benchmark run, one for every load run in it: wrk where it is
 * installed (C, so it takes little CPU from the servers sharing the machine), else our own
 * (load.ts, in this process). `--generator node` forces ours (to measure it against wrk).
 */
import { execFileSync } from 'node:child_process';
import { findExecutable } from './installed.ts';
import { newRunPrefix, runLoad, type LoadResult } from './load.ts';
import { runWrk } from './wrk.ts';
import type { Workload } from './workloads.ts';

export type GeneratorName = 'wrk' | 'node';
export const generator_names: readonly GeneratorName[] = ['wrk', 'node'];

export interface LoadGenerator {
  readonly name: GeneratorName;
  /** wrk's version line, or Node's version for ours. */
  readonly version: string;
  /** Why this one was chosen (wrk found, wrk missing, asked for). */
  readonly reason: string;
  run(addr: string, workload: Workload, connections: number, duration_ms: number): Promise<LoadResult>;
}

export function findWrk(): string | undefined {
  return findExecutable('wrk');
}

function wrkVersion(wrk: string): string {
  try {
    // `wrk -v` prints its version line and exits 1.
    return execFileSync(wrk, ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]?.trim() ?? 'wrk';
  } catch (error) {
    const stdout = (error as { stdout?: unknown }).stdout;
    return typeof stdout === 'string' && stdout.trim() !== '' ? (stdout.split('\n')[0]?.trim() ?? 'wrk') : 'wrk';
  }
}

function nodeGenerator(reason: string): LoadGenerator {
  return {
    name: 'node',
    version: `twopc's own (undici), Node ${process.version}`,
    reason,
    run: (addr, workload, connections, duration_ms) => runLoad(addr, connections, duration_ms, workload),
  };
}

/**
 * The generator for a run: `asked` if given (wrk asked for but missing is an error), else wrk
 * when installed and ours otherwise.
 */
export function chooseGenerator(asked: GeneratorName | undefined): LoadGenerator {
  if (asked === 'node') return nodeGenerator('asked for with --generator node');
  const wrk = findWrk();
  if (wrk === undefined) {
    if (asked === 'wrk') throw new Error('wrk is not installed (Debian package wrk)');
    return nodeGenerator('wrk is not installed (Debian package wrk)');
  }
  return {
    name: 'wrk',
    version: wrkVersion(wrk),
    reason: `${wrk} found`,
    run: (addr, workload, connections, duration_ms) => runWrk(wrk, addr, workload, connections, duration_ms, newRunPrefix()),
  };
}
