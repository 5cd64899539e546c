/**
 * wrk (Debian package `wrk`, written in C) as the benchmark's load generator: it takes far
 * less CPU from the servers than a Node generator sharing their cores. Each run writes a Lua
 * script (the workload's `make_body` from workloads.ts plus the harness below) to a temp
 * file and runs `wrk -t T -c C -d S --latency -s script URL -- prefix`. The script's
 * `done()` prints one line, `WRK_RESULT {json}`, with wrk's own figures (requests,
 * duration, errors by kind, latency percentiles in microseconds from wrk's histogram); that
 * line is what is read, not wrk's rounded text report.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadResult } from './load.ts';
import type { Workload } from './workloads.ts';
import { round } from './stats.ts';

/** A request wrk has not been answered within this long counts as a timeout error. */
const wrk_request_timeout_s = 10;
/** How long past its duration a wrk run may take before it is killed. */
const wrk_overrun_ms = 30_000;
const result_marker = 'WRK_RESULT ';

/** What the script's done() prints after the marker. */
interface WrkSummary {
  readonly requests: number;
  readonly duration_us: number;
  /** Answers that were not 2xx/3xx. */
  readonly status_errors: number;
  readonly socket_errors: number;
  /** Counted by the response() callback when the workload asks for it (else -1). */
  readonly ok: number;
  readonly aborted: number;
  readonly other: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly max_us: number;
  readonly mean_us: number;
}

/** The Lua harness around a workload's make_body. */
export function wrkScript(workload: Workload): string {
  const counting = `function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 409 then aborted = aborted + 1 else other = other + 1 end
end
`;
  return `${workload.lua}
local threads = {}
local thread_count = 0
function setup(thread)
  thread:set('thread_number', thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end
function init(args)
  prefix = args[1]
  counter = 0
  ok, aborted, other = 0, 0, 0
  math.randomseed(os.time() * 100 + thread_number)
end
local headers = { ['Content-Type'] = 'application/json' }
function request()
  counter = counter + 1
  return wrk.format('POST', '${workload.path}', headers, make_body(prefix, thread_number, counter))
end
${workload.counts_aborts ? counting : ''}function done(summary, latency, requests)
  local ok_sum, aborted_sum, other_sum = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok_sum = ok_sum + thread:get('ok')
    aborted_sum = aborted_sum + thread:get('aborted')
    other_sum = other_sum + thread:get('other')
  end
  if not ${workload.counts_aborts} then ok_sum, aborted_sum, other_sum = -1, -1, -1 end
  local errors = summary.errors
  io.write(string.format('\\n${result_marker}{"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"ok":%d,"aborted":%d,"other":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\\n',
    summary.requests, summary.duration, errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    ok_sum, aborted_sum, other_sum, latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end
`;
}

/** The summary line of wrk's output; throws with the output when there is none. */
export function parseWrkOutput(output: string): WrkSummary {
  const line = output.split('\n').find((text) => text.startsWith(result_marker));
  if (line === undefined) throw new Error(`wrk printed no result line:\n${output.slice(-2_000)}`);
  return JSON.parse(line.slice(result_marker.length)) as WrkSummary;
}

/** wrk's summary as a load run's figures (committed = 200s when counted, else 2xx answers). */
export function wrkLoadResult(summary: WrkSummary, connections: number): LoadResult {
  const counted = summary.ok >= 0;
  const committed = counted ? summary.ok : summary.requests - summary.status_errors;
  const aborted = counted ? summary.aborted : 0;
  const errors = (counted ? summary.other : summary.status_errors) + summary.socket_errors;
  const elapsed_s = summary.duration_us / 1e6;
  const ms = (us: number) => round(us / 1000);
  return {
    clients: connections,
    tx_per_s: round(elapsed_s > 0 ? committed / elapsed_s : 0, 1),
    committed,
    aborted,
    errors,
    elapsed_s: round(elapsed_s, 3),
    // wrk's histogram holds every answered request (a 409 or 500 as well as a 200).
    latency: { count: summary.requests, p50_ms: ms(summary.p50_us), p99_ms: ms(summary.p99_us), max_ms: ms(summary.max_us), mean_ms: ms(summary.mean_us) },
  };
}

function runProcess(command: string, args: readonly string[], timeout_ms: number): Promise<{ readonly code: number | null; readonly output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout_ms);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** One wrk run of `workload` against `http://addr` with `connections` keep-alive connections. */
export async function runWrk(wrk: string, addr: string, workload: Workload, connections: number, duration_ms: number, prefix: string): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'twopc-bench-wrk-'));
  const script = join(dir, `${workload.name}.lua`);
  writeFileSync(script, wrkScript(workload));
  // wrk takes whole seconds; each of its threads needs at least one connection.
  const seconds = Math.max(1, Math.round(duration_ms / 1000));
  const threads = Math.max(1, Math.min(connections, cpus().length));
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', `${wrk_request_timeout_s}s`, '--latency', '-s', script, `http://${addr}`, '--', prefix];
  try {
    const { code, output } = await runProcess(wrk, args, seconds * 1000 + wrk_overrun_ms);
    if (code !== 0) throw new Error(`wrk exited with ${code}:\n${output.slice(-2_000)}`);
    return wrkLoadResult(parseWrkOutput(output), connections);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
