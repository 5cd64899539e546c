/**
 * The `twopc` command line: parses with cac and dispatches to one module per command under
 * lib/cli/. Every failure ends as one line `twopc: <reason>` on stderr and an exit code.
 * A command's module is imported when that command runs, never before: `commit` or `--help`
 * must not pay for the node stack, SQLite, piscina, bench or chaos
 * (test/integration/lazy-loading.test.ts).
 */
import { createRequire } from 'node:module';
import { cac, type CAC } from 'cac';
import { describeError, exit_codes, exitCodeOf, UsageError, type ExitCode } from './lib/cli/exit.ts';
import type { RawFlags } from './lib/cli/flags.ts';
import { warnLine } from './lib/cli/output.ts';
import { optionalText } from './lib/cli/flags.ts';
import { package_root } from './lib/util/package-root.ts';
import { chaos_scenario_names } from './lib/cli/chaos-scenario-names.ts';

const version: string = (createRequire(package_root)('./package.json') as { version: string }).version;
const nodes_help = 'Nodes as HOST:PORT,… (default: env TWOPC_NODES, else 127.0.0.1:8081,127.0.0.1:8082,127.0.0.1:8083)';

const global_examples: readonly string[] = [
  '  $ twopc cluster --size 3',
  `  $ twopc commit --payload '{"color":"blue"}'`,
  '  $ twopc get color',
  '  $ twopc status',
];

function buildCli(): CAC {
  const cli = cac('twopc');
  cli
    .command('cluster', 'Run N nodes in one process (one worker thread each), restart crashed ones, show a live table')
    .usage('cluster --size N [--base-port 8081] [--host 127.0.0.1] [--data-dir DIR] [--failpoints] [--log-level LEVEL]')
    .option('--size <n>', 'Number of nodes')
    .option('--base-port <port>', 'Port of the first node; node i listens on base-port + i (default: 8081)')
    .option('--host <host>', 'Host every node binds (default: 127.0.0.1)')
    .option('--data-dir <dir>', 'Root data directory; each node uses DIR/<host>_<port>/ (default: ./data)')
    .option('--failpoints', 'Enable POST /debug/failpoints on every node (tests only; or env TWOPC_FAILPOINTS=1)')
    .option('--log-level <level>', 'silent, error, warn, info or debug: JSON lines on stderr, pretty on a terminal (default: env TWOPC_LOG_LEVEL, else warn)')
    .example('  $ twopc cluster --size 3 --base-port 8081 --data-dir ./data')
    .action(async (raw: RawFlags) => (await import('./lib/cli/cluster.ts')).runCluster(raw));
  cli
    .command('start-node', 'Run one node in this process')
    .usage('start-node --addr HOST:PORT [--bind HOST] [--peers A,B] [--data-dir DIR] [--failpoints] [--secret-file PATH] [--client-keys-file PATH] [--log-level LEVEL] [--config FILE]')
    .option('--addr <host:port>', 'Address the node is known by, and listens on unless --bind (default: env TWOPC_ADDR)')
    .option('--bind <host>', 'Listen on this host instead, on the port of --addr (e.g. 0.0.0.0 in a container; needs the secret)')
    .option('--peers <list>', 'The rest of the membership, HOST:PORT,… (the node\'s own address may be listed: it is skipped)')
    .option('--data-dir <dir>', 'Root data directory; the node uses DIR/<host>_<port>/ (default: ./data)')
    .option('--failpoints', 'Enable POST /debug/failpoints (tests only; or env TWOPC_FAILPOINTS=1)')
    .option('--client-keys-file <path>', 'Client keys (twopc-key:NAME:SECRET lines) that open the client routes only; re-read when it changes; needs the secret (or env TWOPC_CLIENT_KEYS_FILE)')
    .option('--log-level <level>', 'silent, error, warn, info or debug: JSON lines on stderr, pretty on a terminal (default: env TWOPC_LOG_LEVEL, else warn)')
    .option('--config <file>', 'JSON file with addr, bind, peers, data_dir, secret_file, client_keys_file, failpoints, log_level; flags override it')
    .example('  $ twopc start-node --addr 127.0.0.1:8081 --peers 127.0.0.1:8082,127.0.0.1:8083')
    .example('  $ twopc start-node --config /etc/twopc/node.json --log-level info')
    .action(async (raw: RawFlags) => (await import('./lib/cli/start-node.ts')).runStartNode(raw));
  cli
    .command('start-master', 'Join running nodes into one cluster and wait until they agree on a master')
    .usage('start-master --nodes A,B,C [--timeout MS]')
    .option('--nodes <list>', 'Every node of the cluster, HOST:PORT,…')
    .option('--timeout <ms>', 'How long to wait for agreement (default: 10000)')
    .example('  $ twopc start-master --nodes 127.0.0.1:8081,127.0.0.1:8082,127.0.0.1:8083')
    .action(async (raw: RawFlags) => (await import('./lib/cli/start-master.ts')).runStartMaster(raw));
  cli
    .command('commit', 'Commit one transaction through the master (exit 0 committed, 1 aborted, 2 usage/unreachable, 3 unknown, 4 cluster cannot take writes now)')
    .usage('commit --payload JSON [--nodes A,B,C] [--timeout MS] [--json]')
    .option('--payload <json>', 'A JSON object: each key is written with its value, null deletes the key')
    .option('--nodes <list>', nodes_help)
    .option('--timeout <ms>', 'Give up after this long (default: 10000)')
    .option('--json', "Print the master's answer as one JSON object")
    .example(`  $ twopc commit --payload '{"color":"blue","size":3}'`)
    .action(async (raw: RawFlags) => (await import('./lib/cli/commit.ts')).runCommit(raw));
  cli
    .command('status', 'Show every node: address, role, alive, epoch, last committed sequence')
    .usage('status [--nodes A,B,C] [--json] [--watch [--interval MS]]')
    .option('--nodes <list>', nodes_help)
    .option('--json', 'Print {nodes:[…]} as JSON (with --watch: one JSON line per frame)')
    .option('--watch', 'Redraw the table until Ctrl-C (in place on a terminal, appended otherwise)')
    .option('--interval <ms>', 'Pause between frames of --watch (default: 1000)')
    .example('  $ twopc status --nodes 127.0.0.1:8081,127.0.0.1:8082')
    .example('  $ twopc status --watch --interval 500')
    .action(async (raw: RawFlags) => (await import('./lib/cli/status.ts')).runStatus(raw));
  cli
    .command('get <key>', 'Read a committed value (from the master when there is one)')
    .usage('get KEY [--nodes A,B,C] [--node ADDR] [--min-sequence S] [--json]')
    .option('--nodes <list>', nodes_help)
    .option('--node <addr>', 'Read from this node only (default: the master, else any node)')
    .option('--min-sequence <s>', 'Wait (bounded) until the node answering has applied sequence S: read-your-writes on any node')
    .option('--json', 'Print the whole answer {key, value, sequence}')
    .example('  $ twopc get color')
    .action(async (key: unknown, raw: RawFlags) => (await import('./lib/cli/get.ts')).runGet(key, raw));
  cli
    .command('tx <id>', "Show one transaction's state on every node, and say in words what it is waiting for")
    .usage('tx ID [--nodes A,B,C] [--json]')
    .option('--nodes <list>', nodes_help)
    .option('--json', 'Print {transaction_id, nodes:[…]} as JSON')
    .example('  $ twopc tx 0b6f1c52-3f7e-4d0a-9d43-1f1f5b0f6a11')
    .example('  $ twopc tx 0b6f1c52-3f7e-4d0a-9d43-1f1f5b0f6a11 --json')
    .action(async (id: unknown, raw: RawFlags) => (await import('./lib/cli/tx.ts')).runTx(id, raw));
  cli
    .command('chaos', 'Fault-injection run against a real cluster of node processes')
    .usage('chaos [--scenario NAME|all] [--runs N] [--seed S] [--json]')
    .option('--scenario <name>', `all (default), or one or more of: ${chaos_scenario_names.join(', ')} (comma-separated)`)
    .option('--runs <n>', 'Runs per scenario')
    .option('--seed <s>', 'Random seed')
    .option('--json', 'Print one JSON object')
    .example('  $ twopc chaos --scenario all --runs 5 --seed 42')
    .action(async (raw: RawFlags) => (await import('./lib/cli/chaos.ts')).runChaos(raw));
  cli
    .command('bench', 'The benchmark: prints its figures and the same-run baselines')
    .usage('bench [--size N] [--clients C] [--duration S] [--compare etcd,postgres] [--json] [--generator wrk|node] [--failovers F] [--restart-store N] [--in-doubt K] [--soak N] [--command-runs R] [--results-dir DIR]')
    .option('--size <n>', 'Number of nodes of the cluster it starts, 3-9 (default: 3), as for twopc cluster; --nodes N is the same')
    .option('--nodes <n>', 'Same as --size (kept: bench starts its own nodes, it takes no list)')
    .option('--clients <c>', 'Concurrent clients of the throughput run (default: runs at 1, 16, 64 and 256)')
    .option('--duration <s>', 'Seconds each load run lasts (default: 5, and 8 for the 64-connection runs of the systems table)')
    .option('--compare <systems>', 'Also start a 3-member cluster of etcd and/or postgres (comma-separated) and load it the same way; skipped with the reason when not installed')
    .option('--generator <name>', 'Load generator: wrk or node (default: wrk where installed, else twopc\'s own)')
    .option('--json', 'Print one JSON object')
    .option('--failovers <f>', 'Times the master is killed (default: 5)')
    .option('--restart-store <n>', 'Committed transactions in the restarted node\'s store (default: 100000)')
    .option('--in-doubt <k>', 'PREPARED transactions left in doubt in that store (default: 1000)')
    .option('--soak <n>', 'After the load runs, N transactions from 64 clients with every node\'s RSS start/peak/end (default: 0, none)')
    .option('--command-runs <r>', 'Runs of twopc commit and twopc --help timed as whole processes (default: 9)')
    .option('--results-dir <dir>', 'Where the run is recorded as <timestamp>.json (default: bench/results)')
    .example('  $ twopc bench --size 3 --clients 8 --duration 10')
    .example('  $ twopc bench --compare etcd,postgres           # twopc at 1, 3, 5 nodes beside etcd and PostgreSQL')
    .example('  $ twopc bench --soak 1000000 --duration 10     # memory over a million transactions')
    .action(async (raw: RawFlags) => (await import('./lib/cli/bench.ts')).runBenchCommand(raw));
  cli
    .command('health', "Exit 0 when one node serves (its /health, signed with the secret): for container health checks and readiness probes")
    .usage('health [--node HOST:PORT]')
    .option('--node <host:port>', 'The node to ask (default: env TWOPC_ADDR, else 127.0.0.1:8081)')
    .example('  $ TWOPC_SECRET_FILE=/run/secrets/twopc_secret twopc health --node node1:8081')
    .action(async (raw: RawFlags) => (await import('./lib/cli/health.ts')).runHealth(raw));
  cli
    .command('verify', "Compare every replica's digest of what it applied: last sequence, digest and verdict per node (exit 0 only when all agree)")
    .usage('verify [--nodes A,B,C] [--json]')
    .option('--nodes <list>', nodes_help)
    .option('--json', 'One JSON object: the sequence compared and a row per node')
    .example('  $ twopc verify --nodes 127.0.0.1:8081,127.0.0.1:8082,127.0.0.1:8083')
    .action(async (raw: RawFlags) => (await import('./lib/cli/verify.ts')).runVerify(raw));
  cli
    .command('dashboard', 'Serve the live dashboard on loopback; its calls to the cluster are signed with the secret, which stays here')
    .usage('dashboard [--nodes A,B,C] [--port P] [--secret-file PATH]')
    .option('--nodes <list>', nodes_help)
    .option('--port <port>', 'Loopback port of the page (default: 8090; 0 picks a free one)')
    .option('--host <host>', 'Bind this host instead of 127.0.0.1 (in a container whose port is published on loopback only)')
    .example('  $ twopc dashboard --secret-file ./secret   # then open http://127.0.0.1:8090/')
    .action(async (raw: RawFlags) => (await import('./lib/cli/dashboard.ts')).runDashboard(raw));
  // One definition for every command, so each --help lists it once.
  cli.option('--secret-file <path>', 'Cluster secret, at least 32 characters, or a client key line (or env TWOPC_SECRET_FILE naming a file, or env TWOPC_SECRET): signs every request; a node needs the secret to bind off loopback');
  for (const example of global_examples) cli.example(example);
  cli.help();
  cli.version(version);
  return cli;
}

/** Parses `argv`, runs the command and returns the exit code; never throws. */
async function main(argv: readonly string[]): Promise<ExitCode> {
  const cli = buildCli();
  try {
    const parsed = cli.parse([...argv], { run: false });
    if (parsed.options['help'] === true || parsed.options['version'] === true) return exit_codes.ok;
    if (cli.matchedCommand === undefined) return reportMissingCommand(cli, parsed.args[0]);
    // The request code (the client library) loads only for a command, never for --help.
    const [{ signRequestsWith }, { readSecret }] = await Promise.all([import('./lib/cli/http.ts'), import('./lib/cli/secret.ts')]);
    signRequestsWith(readSecret(optionalText(parsed.options['secretFile'], '--secret-file')));
    return (await cli.runMatchedCommand()) as ExitCode;
  } catch (error) {
    warnLine(`twopc: ${describeError(error)}`);
    return exitCodeOf(error);
  }
}

function reportMissingCommand(cli: CAC, name: string | undefined): ExitCode {
  if (name !== undefined) throw new UsageError(`unknown command "${name}" (see twopc --help)`);
  cli.outputHelp();
  return exit_codes.usage;
}

process.exit(await main(process.argv));
