/**
 * The CLI's rough edges a newcomer met (issue 15, items 3-5), each over real `twopc`
 * processes: a 2-node cluster that lost a node (exit 4 with the node's reason, `status` says
 * "no majority", `get` warns the value may be stale), `start-master` warnings and
 * `TWOPC_NODES`, a 404 from something that is not a twopc node, Ctrl-C under `npx`, one
 * `--secret-file` per `--help`, `chaos --help` naming its scenarios, `start-node`'s pid.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliEnv, killAllTwopc, runTwopc, TwopcProcess } from '../helpers/cli-process.ts';
import { request, waitFor } from '../helpers/http.ts';
import { findFreePorts } from '../helpers/ports.ts';
import { createLiveTable } from '../../lib/supervisor/live-table.ts';

const package_dir = fileURLToPath(new URL('../..', import.meta.url));
const data_dir = mkdtempSync(join(tmpdir(), 'twopc-rough-'));

test.after.always(async () => {
  await killAllTwopc();
  rmSync(data_dir, { recursive: true, force: true });
});

async function startLoneNode(addr: string): Promise<TwopcProcess> {
  const node = new TwopcProcess(['start-node', '--addr', addr, '--data-dir', data_dir], { TWOPC_LOG_LEVEL: 'warn' });
  await node.waitForLine(/serving/, 60_000);
  return node;
}

test.serial('a 2-node cluster: start-master warns (two nodes, a node that took writes alone) and reads TWOPC_NODES; losing a node gives exit 4 with the node\'s reason, "no majority" in status, a stale warning on get', async (t) => {
  const [port_a, port_b] = await findFreePorts(2);
  const [a, b] = [`127.0.0.1:${port_a}`, `127.0.0.1:${port_b}`] as const;
  const node_a = await startLoneNode(a);
  const node_b = await startLoneNode(b);
  // a, a cluster of one, takes a write on its own.
  const alone = await runTwopc(['commit', '--nodes', a, '--payload', '{"k":"before joining"}']);
  t.is(alone.code, 0, alone.stderr);

  // No --nodes: start-master takes TWOPC_NODES, and warns twice before joining.
  const joined = await runTwopc(['start-master'], { env: { TWOPC_NODES: `${a},${b}` }, timeout_ms: 60_000 });
  t.is(joined.code, 0, joined.stderr);
  t.regex(joined.stdout, new RegExp(`^master: ${a.replace(/\./g, '\\.')}`));
  t.regex(joined.stderr, /warning: two nodes tolerate no failure/);
  t.regex(joined.stderr, new RegExp(`warning: ${a.replace(/\./g, '\\.')} \\(1 commit\\) already took writes as a cluster of one`));
  t.notRegex(joined.stderr, new RegExp(`${b.replace(/\./g, '\\.')} \\(`), 'the fresh node is not named');
  await waitFor('b caught up', async () => (await request(b, 'GET', '/kv/k', undefined, 1_000)).status === 200, 30_000);

  // b dies: a is left without a majority.
  await node_b.kill();
  await waitFor('a sees it has no majority', async () => {
    const role = await request(a, 'GET', '/role', undefined, 1_000);
    return role.body.nodes.some((node: { addr: string; alive: boolean }) => node.addr === b && !node.alive);
  }, 20_000);
  const refused = await runTwopc(['commit', '--nodes', `${a},${b}`, '--payload', '{"k":"after"}']);
  t.is(refused.code, 4, `stdout ${refused.stdout} stderr ${refused.stderr}`);
  t.regex(refused.stderr, /^twopc: tx \S+ not applied: the cluster cannot take writes now: /);
  t.regex(refused.stderr, /does not reach a majority of the membership/, "the node's own reason");
  t.regex(refused.stderr, /1 of 2 nodes reachable\n$/);
  t.is(refused.stderr.split('\n').length, 2, 'one line');

  const status = await runTwopc(['status', '--nodes', `${a},${b}`]);
  t.is(status.code, 0, status.stderr);
  t.regex(status.stdout, new RegExp(`${a.replace(/\./g, '\\.')} .*no majority \\(1 of 2 alive\\)`));

  const read = await runTwopc(['get', 'k', '--nodes', `${a},${b}`]);
  t.is(read.code, 0, read.stderr);
  t.is(read.stdout, '"before joining"\n');
  t.regex(read.stderr, new RegExp(`^twopc: warning: ${a.replace(/\./g, '\\.')} is not serving .*may be stale\n$`));
  await node_a.kill();
});

test.serial('a 404 from something that is not a twopc node is not "key not found"', async (t) => {
  const server: Server = createServer((_request, response) => {
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"error":"Not Found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    const run = await runTwopc(['get', 'k', '--nodes', `127.0.0.1:${port}`]);
    t.is(run.code, 2, run.stderr);
    t.notRegex(run.stderr, /key not found/);
    t.regex(run.stderr, /not a twopc answer/);
  } finally {
    server.close();
  }
});

/** Runs `npx twopc …args` in its own process group, as a terminal would. */
function spawnUnderNpx(args: readonly string[]) {
  const child = spawn('npx', ['twopc', ...args], { cwd: package_dir, env: cliEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    output: () => ({ stdout, stderr }),
    exited,
    /** Ctrl-C: SIGINT to the whole process group, npm and twopc alike. */
    interrupt: () => process.kill(-child.pid!, 'SIGINT'),
    kill: () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

test.serial('Ctrl-C of status --watch and of cluster under npx exits 0', async (t) => {
  const [port] = await findFreePorts(1);
  const cluster = spawnUnderNpx(['cluster', '--size', '1', '--base-port', String(port), '--data-dir', join(data_dir, 'npx-cluster')]);
  t.teardown(cluster.kill);
  await waitFor('the cluster serving', async () => (await request(`127.0.0.1:${port}`, 'GET', '/health', undefined, 1_000)).status === 200, 60_000, 200);
  const watch = spawnUnderNpx(['status', '--watch', '--interval', '200', '--nodes', `127.0.0.1:${port}`]);
  t.teardown(watch.kill);
  await waitFor('a frame', async () => /ADDRESS/.test(watch.output().stdout), 60_000, 100);

  watch.interrupt();
  t.is(await watch.exited, 0, watch.output().stderr);
  cluster.interrupt();
  t.is(await cluster.exited, 0, cluster.output().stderr);
  t.regex(cluster.output().stderr, /twopc cluster: stopping/);
});

test.serial('on a terminal the live table stays on screen when it stops; lines after it go below, from column 0', async (t) => {
  const [port] = await findFreePorts(1);
  let out = '';
  let err = '';
  const stream = (write: (text: string) => void) => ({ isTTY: true, write: (chunk: string) => (write(chunk), true) }) as unknown as NodeJS.WriteStream;
  const table = createLiveTable({ addrs: [`127.0.0.1:${port}`], restarts: () => 0, out: stream((text) => (out += text)), err: stream((text) => (err += text)) });
  table.start();
  await waitFor('the table drawn', async () => out.includes('ADDRESS'), 10_000);
  table.printAbove('a log line');
  await table.stop();
  const drawn = out;
  table.printAbove('twopc cluster: stopping');
  t.is(err, 'a log line\ntwopc cluster: stopping\n');
  t.is(out, drawn, 'nothing redrawn over the table after it stopped');
  t.true(out.endsWith('\r'), 'the next line starts at column 0 (after an echoed ^C)');
  // Every redraw moves up from column 0, so it never keeps two characters of the header.
  for (const match of out.matchAll(/\u001b\[\d+A/g)) t.is(out[match.index - 1], '\r');
});

test.serial("--secret-file is listed once in every command's --help; chaos --help names its scenarios", async (t) => {
  for (const command of ['cluster', 'start-node', 'commit', 'dashboard']) {
    const run = await runTwopc([command, '--help']);
    t.is(run.code, 0, run.stderr);
    t.is(run.stdout.match(/--secret-file <path>/g)?.length, 1, command);
  }
  const chaos = await runTwopc(['chaos', '--help']);
  for (const name of ['master-sigkill', 'partition-2-3', 'clock-jump', 'participant-kill-before-prepare-persist']) t.regex(chaos.stdout, new RegExp(name));
});

test.serial('start-node prints its pid, which is the node itself', async (t) => {
  const [port] = await findFreePorts(1);
  const node = new TwopcProcess(['start-node', '--addr', `127.0.0.1:${port}`, '--data-dir', data_dir]);
  const line = await node.waitForLine(/serving \(pid \d+, data /, 60_000);
  const pid = Number(/pid (\d+)/.exec(line)?.[1]);
  process.kill(pid, 'SIGKILL');
  t.deepEqual(await node.exited, { code: null, signal: 'SIGKILL' });
});
