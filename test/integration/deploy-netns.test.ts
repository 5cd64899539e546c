/**
 * deploy/netns-cluster.sh: the compose layout (one host per node, non-loopback addresses, a
 * shared secret) across Linux network namespaces. The CLI talks to the nodes from the root
 * namespace through the bridge, with the generated secret; one node is SIGKILLed; `down`
 * leaves nothing behind and can run twice. Needs root and `ip netns`: without them the test
 * is registered as skipped, with the reason in its title.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTwopc } from '../helpers/cli-process.ts';
import { request, waitFor } from '../helpers/http.ts';

const script = fileURLToPath(new URL('../../deploy/netns-cluster.sh', import.meta.url));
const addrs = ['10.88.0.11:8081', '10.88.0.12:8081', '10.88.0.13:8081'] as const;

/** Why this machine cannot run the script, or undefined when it can. Decided at load time. */
function whyUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  const probe = `twopc-probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error !== undefined) return 'the ip command (iproute2) is missing';
  if (add.status !== 0) return `ip netns unavailable (${add.stderr.trim()})`;
  spawnSync('ip', ['netns', 'del', probe]);
  if (spawnSync('ip', ['link', 'show', 'twopc-br0']).status === 0) return 'twopc-br0 already exists (a netns cluster is up; run deploy/netns-cluster.sh down)';
  return undefined;
}

const unavailable = whyUnavailable();

if (unavailable !== undefined) {
  test.skip(`netns cluster: skipped because ${unavailable}`, () => undefined);
} else {
  const state_dir = mkdtempSync(join(tmpdir(), 'twopc-netns-'));
  const env = { ...process.env, TWOPC_NETNS_DIR: state_dir, NODE: process.execPath };
  const runScript = (command: string) => spawnSync('bash', [script, command], { env, encoding: 'utf8', timeout: 120_000 });
  const secret_file = join(state_dir, 'secret');
  const nodes = addrs.join(',');

  test.after.always(() => {
    runScript('down');
    rmSync(state_dir, { recursive: true, force: true });
  });

  test.serial('up, commit through the bridge with the secret, lose a node, down twice', async (t) => {
    const up = runScript('up');
    t.is(up.status, 0, `${up.stdout}\n${up.stderr}`);
    const secret = readFileSync(secret_file, 'utf8').trim();
    t.true(secret.length >= 32);

    const status = await runTwopc(['status', '--nodes', nodes, '--secret-file', secret_file, '--json']);
    t.is(status.code, 0, status.stderr);
    const rows = (JSON.parse(status.stdout) as { nodes: { addr: string; alive: boolean; role: string }[] }).nodes;
    t.deepEqual(rows.map((row) => row.alive), [true, true, true]);
    t.is(rows.find((row) => row.role === 'MASTER')?.addr, addrs[0], 'the lowest address is master');

    const unsigned = await request(addrs[1], 'GET', '/health');
    t.is(unsigned.status, 401, 'off loopback every request must be signed');

    const commit = await runTwopc(['commit', '--nodes', nodes, '--secret-file', secret_file, '--payload', '{"where":"netns"}']);
    t.is(commit.code, 0, commit.stderr);
    for (const addr of addrs) {
      t.like((await request(addr, 'GET', '/kv/where', undefined, 5_000, secret)).body, { value: 'netns' }, addr);
    }
    const get = await runTwopc(['get', 'where', '--nodes', nodes, '--secret-file', secret_file]);
    t.is(get.stdout.trim(), '"netns"', get.stderr);

    const pid = Number(readFileSync(join(state_dir, 'pids', 'node3'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await waitFor('node 3 counted dead', async () => {
      const after = await runTwopc(['status', '--nodes', nodes, '--secret-file', secret_file, '--json']);
      const rows = (JSON.parse(after.stdout) as { nodes: { alive: boolean; role: string | null; members_alive: number | null }[] }).nodes;
      // Dead to the CLI (unreachable) is not enough: the master must count it dead too, or
      // the next round still asks it to prepare and aborts as unreachable.
      const master = rows.find((row) => row.role === 'MASTER');
      return JSON.stringify(rows.map((row) => row.alive)) === '[true,true,false]' && master?.members_alive === 2;
    }, 20_000, 500);
    const second = await runTwopc(['commit', '--nodes', nodes, '--secret-file', secret_file, '--payload', '{"where":"two of three"}']);
    t.is(second.code, 0, `${second.stdout}${second.stderr}`);
    for (const addr of addrs.slice(0, 2)) {
      t.like((await request(addr, 'GET', '/kv/where', undefined, 5_000, secret)).body, { value: 'two of three', sequence: 2 }, addr);
    }
    const shown = runScript('status');
    t.regex(shown.stdout, /twopc-n3 .* node not running/);

    const down = runScript('down');
    t.is(down.status, 0, down.stderr);
    t.false(/twopc-n\d/.test(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout), 'namespaces gone');
    t.not(spawnSync('ip', ['link', 'show', 'twopc-br0']).status, 0, 'bridge gone');
    t.is(runScript('down').status, 0, 'down again is harmless');
  });
}
