/**
 * `twopc bench [--size N] [--clients C] [--duration S] [--compare etcd,postgres] [--json] …`: runs the benchmark
 * (lib/bench/run-bench.ts), records it under bench/results/, and prints the table (or with
 * `--json` one object). Progress goes to stderr.
 */
import { exit_codes, UsageError, type ExitCode } from './exit.ts';
import { flagInteger, flagSwitch, optionalText, type RawFlags } from './flags.ts';
import { printJson, printLine } from './output.ts';
import { forced_exit_code, onShutdownSignal } from './signals.ts';
import { runBench, type BenchSettings } from '../bench/run-bench.ts';
import { Progress } from '../bench/progress.ts';
import { formatReport } from '../bench/report.ts';
import { results_dir_default, writeResultsFile } from '../bench/results-file.ts';
import { compare_names, type CompareName } from '../bench/systems-table.ts';
import { findWrk, generator_names, type GeneratorName } from '../bench/generator.ts';

export const bench_defaults = Object.freeze({
  nodes: 3,
  client_levels: Object.freeze([1, 16, 64, 256]),
  duration_s: 5,
  /** Issue 13's throughput runs: 64 connections for 8 s (its latency runs: 1 connection for `duration_s`). */
  compare_duration_s: 8,
  failovers: 5,
  restart_store: 100_000,
  in_doubt: 1_000,
  soak: 0,
  command_runs: 9,
});

const limits = Object.freeze({
  nodes: [3, 9],
  clients: [1, 4_096],
  duration_s: [1, 3_600],
  failovers: [0, 1_000],
  restart_store: [0, 10_000_000],
  in_doubt: [0, 100_000],
  soak: [0, 100_000_000],
  command_runs: [1, 100],
} as const);

/** Flags `bench` knows, as cac names them (camelCase), plus the global ones. */
const known_flags: ReadonlySet<string> = new Set(['--', 'size', 'nodes', 'clients', 'duration', 'compare', 'generator', 'json', 'failovers', 'restartStore', 'inDoubt', 'soak', 'commandRuns', 'resultsDir', 'secretFile']);

export interface BenchFlags {
  readonly settings: BenchSettings;
  readonly json: boolean;
  readonly results_dir: string;
}

function integerOr(raw: RawFlags, name: string, flag: string, range: readonly [number, number], fallback: number): number {
  return raw[name] === undefined ? fallback : flagInteger(raw[name], flag, range[0], range[1]);
}

/**
 * `--size N`, as `twopc cluster` names the count; `--nodes N` (the contract's spelling) is the
 * same. Every other `--nodes` is a list, so a list here is refused with a pointer to `--size`.
 */
function parseSize(raw: RawFlags): number {
  if (raw['size'] !== undefined && raw['nodes'] !== undefined) throw new UsageError('give --size or --nodes, not both (they are the same count)');
  const [name, flag] = raw['size'] !== undefined ? ['size', '--size'] : ['nodes', '--nodes'];
  const value = raw[name];
  if (typeof value === 'string' && value.includes(':')) {
    throw new UsageError(`bench starts its own cluster: ${flag} is a count of nodes (3-9), not a list; e.g. --size 3`);
  }
  return integerOr(raw, name, flag, limits.nodes, bench_defaults.nodes);
}

/** `--compare etcd,postgres`: the systems to load beside twopc, each once, in the order given. */
function parseCompare(raw: RawFlags): readonly CompareName[] {
  const text = optionalText(raw['compare'], '--compare');
  if (text === undefined) return [];
  const names = text.split(',').map((name) => name.trim().toLowerCase());
  const unknown = names.find((name) => !(compare_names as readonly string[]).includes(name));
  if (unknown !== undefined) throw new UsageError(`--compare takes a comma-separated list of ${compare_names.join(', ')}, got "${unknown}"`);
  return [...new Set(names as CompareName[])];
}

function parseGenerator(raw: RawFlags): GeneratorName | null {
  const text = optionalText(raw['generator'], '--generator');
  if (text === undefined) return null;
  if (!(generator_names as readonly string[]).includes(text)) throw new UsageError(`--generator must be one of ${generator_names.join(', ')}, got "${text}"`);
  if (text === 'wrk' && findWrk() === undefined) throw new UsageError('--generator wrk: wrk is not installed (Debian package wrk)');
  return text as GeneratorName;
}

export function parseBenchFlags(raw: RawFlags): BenchFlags {
  const unknown = Object.keys(raw).filter((name) => !known_flags.has(name));
  if (unknown.length > 0) throw new UsageError(`bench does not know --${unknown[0]?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} (see twopc bench --help)`);
  const clients = raw['clients'] === undefined ? bench_defaults.client_levels : [flagInteger(raw['clients'], '--clients', ...limits.clients)];
  // --duration sets every load run; without it the systems table's throughput runs last 8 s.
  const duration_s = integerOr(raw, 'duration', '--duration', limits.duration_s, bench_defaults.duration_s);
  return {
    settings: {
      nodes: parseSize(raw),
      client_levels: clients,
      duration_s,
      compare_duration_s: raw['duration'] === undefined ? bench_defaults.compare_duration_s : duration_s,
      compare: parseCompare(raw),
      generator: parseGenerator(raw),
      failovers: integerOr(raw, 'failovers', '--failovers', limits.failovers, bench_defaults.failovers),
      restart_store: integerOr(raw, 'restartStore', '--restart-store', limits.restart_store, bench_defaults.restart_store),
      in_doubt: integerOr(raw, 'inDoubt', '--in-doubt', limits.in_doubt, bench_defaults.in_doubt),
      soak: integerOr(raw, 'soak', '--soak', limits.soak, bench_defaults.soak),
      command_runs: integerOr(raw, 'commandRuns', '--command-runs', limits.command_runs, bench_defaults.command_runs),
    },
    json: flagSwitch(raw['json']),
    results_dir: optionalText(raw['resultsDir'], '--results-dir') ?? results_dir_default,
  };
}

export async function runBenchCommand(raw: RawFlags): Promise<ExitCode> {
  const flags = parseBenchFlags(raw);
  // Ctrl-C ends the run through process.exit, whose exit hook kills every node it started.
  void onShutdownSignal().then(() => process.exit(forced_exit_code));
  const progress = new Progress();
  const result = await runBench(flags.settings, progress);
  progress.done();
  const results_file = writeResultsFile(flags.results_dir, result.started_at, result);
  if (flags.json) printJson({ ...result, results_file });
  else printLine(formatReport(result, results_file));
  return exit_codes.ok;
}
