/**
 * What a benchmark ran on, recorded with every result: OS, CPUs, memory, Node version and
 * the git commit of the code measured (with a flag when the work tree had changes).
 */
import { execFileSync } from 'node:child_process';
import { arch, cpus, loadavg, release, totalmem, type } from 'node:os';
import { round } from './stats.ts';

export interface MachineDescription {
  readonly os: string;
  readonly arch: string;
  readonly cpu_model: string;
  readonly cpu_count: number;
  readonly memory_gb: number;
  readonly node_version: string;
  readonly git_commit: string | null;
  readonly git_dirty: boolean | null;
  /** 1-minute load average when the run started: a busy machine skews every figure. */
  readonly load_average_1m: number;
}

function git(args: readonly string[]): string | null {
  try {
    return execFileSync('git', [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], cwd: new URL('../..', import.meta.url) }).trim();
  } catch {
    return null;
  }
}

export function describeMachine(): MachineDescription {
  const processors = cpus();
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return {
    os: `${type()} ${release()}`,
    arch: arch(),
    cpu_model: processors[0]?.model.trim() ?? 'unknown',
    cpu_count: processors.length,
    memory_gb: round(totalmem() / 1024 ** 3, 1),
    node_version: process.version,
    git_commit: git(['rev-parse', 'HEAD']),
    git_dirty: status === null ? null : status.length > 0,
    load_average_1m: round(loadavg()[0] ?? 0, 2),
  };
}
