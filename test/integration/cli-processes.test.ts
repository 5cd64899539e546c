/**
 * The `twopc` command line as users run it: every command is a real child process
 * (`node bin/twopc.mjs …`), checked by its exit code, stdout and stderr.
 *
 *  - `twopc cluster` (supervisor) as a child: first line, health, commit, SIGINT, restart.
 *  - `twopc start-node` × 3 joined by `twopc start-master`, then on that same cluster:
 *    commit exit 1 (conflict), commit exit 3 (outcome unknown), status/tx with a node killed.
 *  - `twopc start-node` start-up errors (exit 2, one line), `--help` and `--version`.
 *
 * The in-process supervisor tests and the basic status/commit/get/tx/usage runs live in
 * supervisor-cli.test.ts; this file does not repeat them.
 */
import test, { type ExecutionContext } from 'ava';
import { randomUUID } from 'node:crypto';
import { openSync, readdirSync, readFileSync, readSync, closeSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { assertOneErrorLine, cleanUpCli, makeTempDir, runTwopc, TwopcProcess } from '../helpers/cli-process.ts';
import { prepareOldMastersRound, request, waitFor } from '../helpers/http.ts';
import { findFreePorts, isPortFree } from '../helpers/ports.ts';

test.after.always(cleanUpCli);

/** Waits until every node names the same master and that master says it is MASTER. */
async function agreedMaster(addrs: readonly string[], timeout_ms = 20_000): Promise<string> {
  return waitFor(
    `one agreed master among ${addrs.join(', ')}`,
    async () => {
      const roles = await Promise.all(addrs.map((addr) => request(addr, 'GET', '/role', undefined, 1_000)));
      if (roles.some((role) => role.status !== 200)) return undefined;
      const masters = new Set(roles.map((role) => role.body.master));
      const [master] = masters;
      if (masters.size !== 1 || typeof master !== 'string') return undefined;
      const own = roles.find((role) => role.body.addr === master)?.body;
      return own?.role === 'MASTER' && own.accepting_writes !== false ? master : undefined;
    },
    timeout_ms,
    100,
  );
}

async function healthy(addr: string): Promise<boolean> {
  return (await request(addr, 'GET', '/health', undefined, 1_000)).status === 200;
}

/** True when some file directly under `dir` is an SQLite 3 database (by its header). */
function holdsSqliteFile(dir: string): boolean {
  const magic = 'SQLite format 3\u0000';
  return readdirSync(dir, { withFileTypes: true }).some((entry) => {
    if (!entry.isFile()) return false;
    const fd = openSync(join(dir, entry.name), 'r');
    try {
      const header = Buffer.alloc(magic.length);
      return readSync(fd, header, 0, magic.length, 0) === magic.length && header.toString('latin1') === magic;
    } finally {
      closeSync(fd);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// 1. `twopc cluster` as a child process
// ---------------------------------------------------------------------------------------------

test.serial('cluster: serves 3 nodes, commits, stops on SIGINT, keeps its data across a restart', async (t) => {
  const ports = await findFreePorts(3);
  const [base] = ports as [number, number, number];
  const addrs = ports.map((port) => `127.0.0.1:${port}`) as [string, string, string];
  const nodes = addrs.join(',');
  const data_dir = makeTempDir('cli-cluster');
  const args = ['cluster', '--size', '3', '--base-port', String(base), '--data-dir', data_dir];
  const env = { TWOPC_LOG_LEVEL: 'warn' };

  const first = new TwopcProcess(args, env);
  t.teardown(() => first.kill());
  const banner = await first.waitForLine(/\S/);
  t.true(first.stdout.startsWith(banner), 'the banner is the very first line');
  t.true(banner.startsWith(`twopc cluster: 3 nodes on 127.0.0.1:${base}..${base + 2}`), banner);
  t.true(banner.includes(data_dir), `the banner names the data dir: ${banner}`);

  await waitFor('every node healthy', async () => (await Promise.all(addrs.map(healthy))).every(Boolean), 20_000);
  const master = await agreedMaster(addrs);
  t.is(master, addrs[0], 'the lowest address is master');
  const roles = await Promise.all(addrs.map((addr) => request(addr, 'GET', '/role')));
  t.is(roles.filter((role) => role.body.role === 'MASTER').length, 1, 'exactly one MASTER');

  const commit = await runTwopc(['commit', '--nodes', nodes, '--payload', '{"color":"teal","size":7}']);
  t.is(commit.code, 0, commit.stderr);
  t.regex(commit.stdout, /^committed tx [0-9a-f-]{36} at sequence 1 on 3 nodes\n$/);
  t.is(commit.stderr, '');

  // Not a TTY: the live table is printed as plain lines, no cursor movement.
  await first.waitForLine(/^ADDRESS\s+ROLE\s+ALIVE/, 10_000);
  for (const addr of addrs) t.true(first.stdout.includes(addr), `the table lists ${addr}`);
  t.false(first.stdout.includes('\u001b['), 'no ANSI escapes when stdout is not a TTY');

  first.signal('SIGINT');
  const exit = await first.exitWithin(8_000);
  t.deepEqual(exit, { code: 0, signal: null }, `SIGINT → exit 0 within 8 s; stderr: ${first.stderr}`);
  for (const addr of addrs) {
    await t.throwsAsync(request(addr, 'GET', '/health', undefined, 1_000), undefined, `${addr} still answers after SIGINT`);
  }
  for (const port of ports) {
    const node_dir = join(data_dir, `127.0.0.1_${port}`);
    t.true(holdsSqliteFile(node_dir), `an SQLite file under ${node_dir}`);
  }

  // Same data dir (and ports) again: the committed data is still there.
  const second = new TwopcProcess(args, env);
  t.teardown(() => second.kill());
  await second.waitForLine(/^twopc cluster: 3 nodes on /);
  await waitFor('every node healthy again', async () => (await Promise.all(addrs.map(healthy))).every(Boolean), 20_000);
  await agreedMaster(addrs);
  const get = await runTwopc(['get', 'color', '--nodes', nodes]);
  t.is(get.code, 0, get.stderr);
  t.is(get.stdout, '"teal"\n');
  const size = await runTwopc(['get', 'size', '--nodes', nodes, '--json']);
  t.is(size.code, 0, size.stderr);
  t.deepEqual(JSON.parse(size.stdout), { key: 'size', value: 7, sequence: 1 });

  second.signal('SIGINT');
  t.deepEqual(await second.exitWithin(8_000), { code: 0, signal: null }, `second SIGINT; stderr: ${second.stderr}`);
});

// ---------------------------------------------------------------------------------------------
// 2–4, 6. Three `twopc start-node` processes joined by `twopc start-master`
// ---------------------------------------------------------------------------------------------

interface NodeProcesses {
  readonly addrs: readonly [string, string, string];
  readonly nodes: string;
  /** The node processes by address (a test that restarts a node replaces its entry). */
  readonly processes: Map<string, TwopcProcess>;
  readonly data_dir: string;
  /** The id of a transaction `twopc commit` reported COMMITTED (set by the start-master test). */
  committed_id?: string;
}

let standalone: NodeProcesses | undefined;

function startNode(addr: string, data_dir: string): TwopcProcess {
  return new TwopcProcess(['start-node', '--addr', addr, '--data-dir', data_dir, '--failpoints'], { TWOPC_LOG_LEVEL: 'warn' });
}

function requireStandalone(t: ExecutionContext): NodeProcesses {
  if (standalone === undefined) {
    t.fail('the start-node/start-master cluster did not come up (see the earlier test)');
    throw new Error('no cluster');
  }
  return standalone;
}

test.serial('start-node ×3 with only --addr, joined by start-master: one master, every node knows all three', async (t) => {
  const ports = await findFreePorts(3);
  const addrs = ports.map((port) => `127.0.0.1:${port}`) as [string, string, string];
  const data_dir = makeTempDir('cli-nodes');
  const processes = new Map<string, TwopcProcess>();
  for (const addr of addrs) processes.set(addr, startNode(addr, data_dir));
  standalone = { addrs, nodes: addrs.join(','), processes, data_dir };
  for (const [addr, node] of processes) {
    await node.waitForLine(new RegExp(`^twopc node ${addr.replace(/\./g, '\\.')} serving`));
    await waitFor(`${addr} healthy`, () => healthy(addr), 20_000);
    const alone = await request(addr, 'GET', '/role');
    t.deepEqual(alone.body.nodes.map((n: { addr: string }) => n.addr), [addr], `${addr} starts alone`);
  }

  // Listed out of order: the master is still the lowest address.
  const [low, mid, high] = addrs;
  const run = await runTwopc(['start-master', '--nodes', [mid, high, low].join(',')]);
  t.is(run.code, 0, run.stderr);
  const printed = /^master: (\S+) \(epoch (\d+)\)\n$/.exec(run.stdout);
  t.truthy(printed, `start-master printed ${JSON.stringify(run.stdout)}`);
  t.is(printed?.[1], low);
  const epoch = Number(printed?.[2]);
  t.true(epoch >= 1, `epoch ${epoch}`);
  t.is(run.stderr, '');

  // start-master has exited; the cluster keeps running and every node already agrees.
  for (const addr of addrs) {
    const role = await request(addr, 'GET', '/role');
    t.is(role.status, 200, addr);
    t.deepEqual(role.body.nodes.map((n: { addr: string }) => n.addr).sort(), [...addrs].sort(), `${addr} lists every node`);
    t.is(role.body.master, low, `${addr} names the master`);
    t.is(role.body.role, addr === low ? 'MASTER' : 'SLAVE', addr);
    t.true(role.body.epoch >= epoch, `${addr} epoch ${role.body.epoch} >= ${epoch}`);
  }

  const commit = await runTwopc(['commit', '--nodes', standalone.nodes, '--json', '--payload', '{"joined":{"by":"start-master"}}']);
  t.is(commit.code, 0, commit.stderr);
  const answer = JSON.parse(commit.stdout);
  t.like(answer, { status: 'COMMITTED' });
  t.deepEqual([...answer.participants].sort(), [...addrs].sort());
  standalone.committed_id = answer.transaction_id;
  for (const addr of addrs) {
    const read = await request(addr, 'GET', '/kv/joined');
    t.deepEqual(read.body, { key: 'joined', value: { by: 'start-master' }, sequence: answer.sequence }, addr);
  }
});

test.serial('commit exits 1 on a conflict: one human line on stdout; --json prints the ABORTED answer', async (t) => {
  const { addrs, nodes, processes, data_dir } = requireStandalone(t);
  const [master, next, holder] = addrs;
  t.is(await agreedMaster(addrs), master);
  // A round of the master that reached only `holder` (the test stands in for the master),
  // then the master dies: `holder` keeps `k` locked in doubt, unable to learn the outcome.
  // The next master's write of `k` is another coordinator's round: a conflict (contract
  // semantics 4). A prepare of the master's own current round would share the key instead.
  const held = `made-up-${randomUUID()}`;
  t.deepEqual(await prepareOldMastersRound(holder, master, held, { k: 0 }), { status: 200, body: { status: 'READY' } });
  await processes.get(master)!.kill();
  const live = [next, holder];
  t.is(await agreedMaster(live), next);

  const human = await runTwopc(['commit', '--nodes', nodes, '--payload', '{"k":1}']);
  t.is(human.code, 1, `stdout ${human.stdout} stderr ${human.stderr}`);
  t.regex(human.stdout, /^aborted tx [0-9a-f-]{36}: [^\n]*conflict[^\n]*\n$/);
  t.is(human.stderr, '');

  const json = await runTwopc(['commit', '--nodes', nodes, '--json', '--payload', '{"k":1}']);
  t.is(json.code, 1, json.stderr);
  t.is(json.stdout.trimEnd().split('\n').length, 1, 'one line of JSON');
  const answer = JSON.parse(json.stdout);
  t.is(answer.status, 'ABORTED');
  t.is(typeof answer.transaction_id, 'string');
  t.regex(String(answer.reason), /conflict/);
  t.regex(String(answer.votes?.[holder]), /ABORT/, 'the holder of the lock voted ABORT');
  t.is(json.stderr, '');
  t.is((await request(holder, 'GET', `/transactions/${held}`)).body.state, 'PREPARED', 'the old round stays in doubt');

  // The old master comes back and never prepared the held round: the holder aborts it, the
  // lock goes, the lowest address leads again, and the same write now commits.
  processes.set(master, startNode(master, data_dir));
  await waitFor('held round aborted', async () => (await request(holder, 'GET', `/transactions/${held}`, undefined, 1_000)).body.state === 'ABORTED', 30_000);
  t.is(await agreedMaster(addrs, 30_000), master);
  // Atomic: no replica applied k.
  for (const addr of addrs) t.is((await request(addr, 'GET', '/kv/k')).status, 404, addr);
  const retry = await runTwopc(['commit', '--nodes', nodes, '--json', '--payload', '{"k":1}']);
  t.is(retry.code, 0, `stdout ${retry.stdout} stderr ${retry.stderr}`);
  t.like(JSON.parse(retry.stdout), { status: 'COMMITTED' });
});

test.serial('commit exits 3 when the master decides too late; the write commits on every node anyway', async (t) => {
  const { addrs, nodes } = requireStandalone(t);
  const master = await agreedMaster(addrs);
  const delay_ms = 5_000;
  const armed = await request(master, 'POST', '/debug/failpoints', { name: 'after-decision-persist', action: `delay:${delay_ms}` });
  t.is(armed.status, 200, JSON.stringify(armed.body));
  t.teardown(async () => {
    await request(master, 'POST', '/debug/failpoints', { name: 'after-decision-persist', action: 'off' }).catch(() => undefined);
  });

  const run = await runTwopc(['commit', '--nodes', nodes, '--timeout', '1500', '--payload', '{"late":"but certain"}']);
  t.is(run.code, 3, `stdout ${run.stdout} stderr ${run.stderr}`);
  const line = assertOneErrorLine(t, run, 'commit exit 3');
  t.regex(line, /unknown/i, 'the reason says the outcome is unknown');
  t.is(run.stdout, '');
  t.true(run.duration_ms < delay_ms, `gave up after ${run.duration_ms} ms, before the master's ${delay_ms} ms delay ended`);

  t.is((await request(master, 'POST', '/debug/failpoints', { name: 'after-decision-persist', action: 'off' })).status, 200);
  const sequences = await Promise.all(
    addrs.map((addr) =>
      waitFor(
        `late write visible on ${addr}`,
        async () => {
          const read = await request(addr, 'GET', '/kv/late', undefined, 1_000);
          return read.status === 200 && read.body.value === 'but certain' ? (read.body.sequence as number) : undefined;
        },
        15_000,
        100,
      ),
    ),
  );
  t.is(new Set(sequences).size, 1, `one sequence everywhere: ${sequences.join(', ')}`);
});

test.serial('status --json and the status table with one node SIGKILLed; tx shows COMMITTED on the live nodes', async (t) => {
  const { addrs, nodes, processes, committed_id } = requireStandalone(t);
  const master = await agreedMaster(addrs);
  const victim = addrs.find((addr) => addr !== master)!;
  await processes.get(victim)!.kill();
  const live = addrs.filter((addr) => addr !== victim);

  const json = await runTwopc(['status', '--nodes', nodes, '--json']);
  t.is(json.code, 0, json.stderr);
  const status = JSON.parse(json.stdout) as { nodes: { addr: string; alive: boolean; role: string | null }[] };
  t.deepEqual(status.nodes.map((node) => node.addr), [...addrs]);
  const row = (addr: string) => status.nodes.find((node) => node.addr === addr);
  t.false(row(victim)?.alive, 'the killed node is not alive');
  for (const addr of live) t.true(row(addr)?.alive, `${addr} alive`);
  t.is(row(master)?.role, 'MASTER');

  const table = await runTwopc(['status', '--nodes', nodes]);
  t.is(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  t.is(lines.length, 1 + addrs.length, table.stdout);
  const header = lines[0] ?? '';
  for (const column of ['ADDRESS', 'ROLE', 'ALIVE', 'EPOCH', 'SEQUENCE']) t.true(header.includes(column), `header has ${column}: ${header}`);
  const line = (addr: string) => lines.find((text) => text.startsWith(`${addr} `)) ?? '';
  t.regex(line(victim), /\b(down|no)\b/, `killed node row: ${line(victim)}`);
  t.regex(line(master), /\bMASTER\b.*\byes\b/, `master row: ${line(master)}`);

  t.truthy(committed_id, 'a committed transaction id from the start-master test');
  const tx = await runTwopc(['tx', committed_id ?? 'missing', '--nodes', nodes]);
  t.is(tx.code, 0, tx.stderr);
  const tx_lines = tx.stdout.trimEnd().split('\n');
  t.regex(tx_lines[0] ?? '', /STATE/, 'a header row');
  for (const addr of live) {
    t.regex(tx_lines.find((text) => text.startsWith(`${addr} `)) ?? '', /\bCOMMITTED\b/, `${addr} shows COMMITTED`);
  }
  t.notRegex(tx_lines.find((text) => text.startsWith(`${victim} `)) ?? 'missing row', /\bCOMMITTED\b/, 'the killed node cannot say');

  // The rest of the cluster stops cleanly on SIGTERM.
  for (const addr of live) processes.get(addr)!.signal('SIGTERM');
  for (const addr of live) t.deepEqual(await processes.get(addr)!.exitWithin(12_000), { code: 0, signal: null }, `${addr} SIGTERM`);
});

// ---------------------------------------------------------------------------------------------
// 5. `twopc start-node` start-up errors: exit 2, one line on stderr
// ---------------------------------------------------------------------------------------------

test('start-node on a busy port exits 2 with one line', async (t) => {
  const [port] = (await findFreePorts(1)) as [number];
  const blocker: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    blocker.once('error', reject);
    blocker.listen(port, '127.0.0.1', resolve);
  });
  t.teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const run = await runTwopc(['start-node', '--addr', `127.0.0.1:${port}`, '--data-dir', makeTempDir('cli-busy')], { timeout_ms: 20_000 });
  t.is(run.code, 2, `stdout ${run.stdout} stderr ${run.stderr}`);
  const line = assertOneErrorLine(t, run, 'busy port');
  t.true(line.includes(`127.0.0.1:${port}`), `names the address: ${line}`);
  t.notRegex(run.stdout, /serving/);
});

test('start-node with an unwritable data dir exits 2 with one line', async (t) => {
  const dir = makeTempDir('cli-unwritable');
  const file = join(dir, 'a-regular-file');
  writeFileSync(file, 'not a directory\n');
  const [port] = (await findFreePorts(1)) as [number];
  const data_dir = join(file, 'x');
  const run = await runTwopc(['start-node', '--addr', `127.0.0.1:${port}`, '--data-dir', data_dir], { timeout_ms: 20_000 });
  t.is(run.code, 2, `stdout ${run.stdout} stderr ${run.stderr}`);
  const line = assertOneErrorLine(t, run, 'unwritable data dir');
  t.true(line.includes(data_dir), `names the data dir: ${line}`);
  t.true(await isPortFree(port), 'nothing left listening');
  t.is(readFileSync(file, 'utf8'), 'not a directory\n');
});

test('start-node on a non-loopback address without a secret exits 2 and names the secret', async (t) => {
  const [port] = (await findFreePorts(1)) as [number];
  const run = await runTwopc(['start-node', '--addr', `0.0.0.0:${port}`, '--data-dir', makeTempDir('cli-nosecret')], { timeout_ms: 20_000 });
  t.is(run.code, 2, `stdout ${run.stdout} stderr ${run.stderr}`);
  const line = assertOneErrorLine(t, run, 'no secret');
  t.regex(line, /secret/i);
  t.true(await isPortFree(port), 'it did not bind');
});

test('start-node --addr nonsense exits 2 with one line', async (t) => {
  const run = await runTwopc(['start-node', '--addr', 'nonsense', '--data-dir', makeTempDir('cli-nonsense')], { timeout_ms: 20_000 });
  t.is(run.code, 2, `stdout ${run.stdout} stderr ${run.stderr}`);
  const line = assertOneErrorLine(t, run, '--addr nonsense');
  t.true(line.includes('nonsense'), line);
  t.is(run.stdout, '');
});

// ---------------------------------------------------------------------------------------------
// 7. Help and version
// ---------------------------------------------------------------------------------------------

test('commit --help exits 0 and shows an example', async (t) => {
  const run = await runTwopc(['commit', '--help']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /commit --payload/);
  t.regex(run.stdout, /Examples?:[\s\S]*\$ twopc commit --payload '\{/, 'an example command line');
  t.is(run.stderr, '');
});

test('--version prints the package version', async (t) => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const run = await runTwopc(['--version']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, new RegExp(`(^|[^\\d.])${version.replace(/\./g, '\\.')}([^\\d.]|$)`));
  t.is(run.stderr, '');
});
