/**
 * The `twopc` bin as a user runs it (bin/twopc.mjs executed itself: /bin/sh reads its first
 * lines and starts node in its own place): the commands that run nodes get the node heap
 * flags, client commands none (any V8 flag costs Node 20 the code cache of its built-in
 * modules), every command gets the malloc settings and none NODE_EXTRA_CA_CERTS, and the
 * process a caller started is node itself. Each run records what its node process got through
 * a module imported by NODE_OPTIONS (not a V8 flag: it leaves the code cache alone).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { node_heap_args, node_malloc_env } from '../../lib/util/node-heap.ts';
import { twopc_bin } from '../helpers/process-cluster.ts';

interface Launch {
  readonly code: number | null;
  readonly spawned_pid: number | undefined;
  readonly pid: number;
  readonly execArgv: readonly string[];
  readonly extra_ca_certs: string | null;
  readonly malloc: Readonly<Record<string, string | null>>;
}

const report = [
  "process.stderr.write('launch ' + JSON.stringify({ pid: process.pid, execArgv: process.execArgv,",
  ' extra_ca_certs: process.env.NODE_EXTRA_CA_CERTS ?? null,',
  ` malloc: Object.fromEntries(${JSON.stringify(Object.keys(node_malloc_env))}.map((name) => [name, process.env[name] ?? null])) }) + '\\n');`,
].join('');

/** Runs the bin itself with `args`; what its node process was started with. */
function launch(args: readonly string[]): Promise<Launch> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca-bundle.crt', NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(report)}` };
  for (const name of Object.keys(node_malloc_env)) delete env[name];
  const child = spawn(twopc_bin, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const line = stderr.split('\n').find((text) => text.startsWith('launch '));
      if (line === undefined) return reject(new Error(`twopc ${args.join(' ')} recorded nothing: ${stderr}`));
      resolve({ code, spawned_pid: child.pid, ...(JSON.parse(line.slice('launch '.length)) as Omit<Launch, 'code' | 'spawned_pid'>) });
    });
  });
}

const runs_nodes: ReadonlyArray<readonly string[]> = [
  ['start-node', '--addr', 'not-an-address'],
  ['cluster', '--size', '0'],
];
const client_commands: ReadonlyArray<readonly string[]> = [
  ['--version'],
  ['commit', '--payload', '{"name":"cluster"}', '--nodes', 'not-an-address'],
];

for (const args of runs_nodes) {
  test(`twopc ${args[0]} runs with the node heap flags, in the process the caller started`, async (t) => {
    const run = await launch(args);
    t.is(run.code, 2);
    t.deepEqual(run.execArgv, node_heap_args);
    t.is(run.pid, run.spawned_pid ?? -1);
    t.deepEqual(run.malloc, node_malloc_env);
    t.is(run.extra_ca_certs, null);
  });
}

for (const args of client_commands) {
  test(`twopc ${args[0]} runs without V8 flags, in the process the caller started`, async (t) => {
    const run = await launch(args);
    t.is(run.code, args[0] === '--version' ? 0 : 2);
    t.deepEqual(run.execArgv, []);
    t.is(run.pid, run.spawned_pid ?? -1);
    t.deepEqual(run.malloc, node_malloc_env);
    t.is(run.extra_ca_certs, null);
  });
}
