/**
 * Operating twopc: nodes started with `--log-level info` write one JSON line per state
 * change of a transaction (with transaction_id, epoch and addr), `GET /metrics` is Prometheus
 * text whose counters move with commits and heartbeat misses, and `twopc cluster` logs from
 * its worker threads too. Real node processes on loopback throughout.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllTwopc, runTwopc, TwopcProcess } from '../helpers/cli-process.ts';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { findFreePorts } from '../helpers/ports.ts';
import { request, waitFor } from '../helpers/http.ts';

const data_dirs: string[] = [];

test.after.always(async () => {
  await killAllTwopc();
  for (const dir of data_dirs) rmSync(dir, { recursive: true, force: true });
});

function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'twopc-observe-'));
  data_dirs.push(dir);
  return dir;
}

/** Every running node names the same master, and that master accepts writes. */
async function waitForMaster(addrs: readonly string[], timeout_ms = 30_000): Promise<string> {
  return waitFor(
    'one agreed master',
    async () => {
      const roles = await Promise.all(addrs.map((addr) => request(addr, 'GET', '/role', undefined, 1_000)));
      const masters = new Set(roles.map((role) => role.body.master));
      const [master] = masters;
      if (masters.size !== 1 || typeof master !== 'string') return undefined;
      const view = roles.find((role) => role.body.addr === master)?.body;
      const all_alive = view?.nodes.every((node: { alive: boolean }) => node.alive);
      return view?.role === 'MASTER' && view.accepting_writes && all_alive ? master : undefined;
    },
    timeout_ms,
    100,
  );
}

/** Prometheus text as `name{labels}` → value; every sample line must parse. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

async function scrape(addr: string): Promise<Map<string, number>> {
  const response = await fetch(`http://${addr}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (response.status !== 200) throw new Error(`/metrics on ${addr} answered ${response.status}`);
  return parseMetrics(await response.text());
}

/** Every non-empty stderr line as JSON; fails the test on a line that is not. */
function parseLogLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`stderr line is not JSON: ${line}`);
      }
    });
}

const metric_names = [
  'twopc_transactions_total',
  'twopc_transaction_answers_total',
  'twopc_prepare_duration_seconds_bucket',
  'twopc_commit_duration_seconds_bucket',
  'twopc_transaction_duration_seconds_bucket',
  'twopc_participant_transitions_total',
  'twopc_elections_total',
  'twopc_heartbeat_misses_total',
  'twopc_epoch',
  'twopc_is_master',
  'twopc_last_sequence',
  'twopc_locked_keys',
  'twopc_in_doubt_transactions',
  'twopc_prepared_transactions',
  'twopc_catch_up_lag',
  'twopc_alive_peers',
];

test.serial('--log-level info: one JSON line per transaction state change with transaction_id, epoch and addr; /metrics counters move', async (t) => {
  const ports = await findFreePorts(3);
  const addrs = ports.map((port) => `127.0.0.1:${port}`);
  const data_dir = freshDataDir();
  const nodes = new Map(
    addrs.map((addr) => [
      addr,
      new TwopcProcess(['start-node', '--addr', addr, '--peers', addrs.filter((other) => other !== addr).join(','), '--data-dir', data_dir, '--log-level', 'info']),
    ]),
  );
  const master = await waitForMaster(addrs);
  const slaves = addrs.filter((addr) => addr !== master);
  const epoch = (await request(master, 'GET', '/role')).body.epoch as number;
  const before = await scrape(master);
  const slave_before = await scrape(slaves[0]!);

  // Three commits. On a loaded machine a prepare may time out and the round abort (409, a
  // certain outcome): that one is retried and counted as an abort.
  const ids: string[] = [];
  let rounds = 0;
  while (ids.length < 3 && rounds < 8) {
    rounds += 1;
    const answer = await request(master, 'POST', '/transactions', { payload: { [`k${rounds}`]: rounds } }, 15_000);
    if (answer.status === 409) t.log(`aborted, retrying: ${JSON.stringify(answer.body)}`);
    else t.is(answer.status, 200, JSON.stringify(answer.body));
    if (answer.status === 200) ids.push(answer.body.transaction_id);
  }
  t.is(ids.length, 3, 'three commits');
  const aborted = rounds - ids.length;

  // Metrics: every name is there and the counters moved by exactly the three commits.
  const after = await scrape(master);
  for (const name of metric_names) t.true([...after.keys()].some((key) => key === name || key.startsWith(`${name}{`)), `${name} missing`);
  t.true([...after.keys()].every((key) => key.startsWith('twopc_')), 'every metric is named twopc_…');
  const moved = (samples: Map<string, number>, old: Map<string, number>, key: string) => (samples.get(key) ?? 0) - (old.get(key) ?? 0);
  t.is(moved(after, before, 'twopc_transactions_total{outcome="COMMIT"}'), 3);
  t.is(moved(after, before, 'twopc_transactions_total{outcome="ABORT"}'), aborted);
  t.is(moved(after, before, 'twopc_transaction_answers_total{outcome="committed"}'), 3);
  t.is(moved(after, before, 'twopc_transaction_answers_total{outcome="aborted"}'), aborted);
  t.is(moved(after, before, 'twopc_prepare_duration_seconds_count'), rounds);
  t.is(moved(after, before, 'twopc_commit_duration_seconds_count'), 3);
  t.is(moved(after, before, 'twopc_participant_transitions_total{state="COMMITTED"}'), 3);
  t.is(after.get('twopc_last_sequence'), 3, 'an aborted round takes no sequence');
  t.is(after.get('twopc_epoch'), epoch);
  t.is(after.get('twopc_is_master'), 1);
  t.is(after.get('twopc_elections_total'), 1);
  t.is(after.get('twopc_in_doubt_transactions'), 0);
  const slave_after = await scrape(slaves[0]!);
  t.true(moved(slave_after, slave_before, 'twopc_participant_transitions_total{state="PREPARED"}') >= 3);
  t.is(moved(slave_after, slave_before, 'twopc_participant_transitions_total{state="COMMITTED"}'), 3);
  t.is(slave_after.get('twopc_is_master'), 0);

  // Logs: each node wrote JSON lines only; each transaction is prepared and committed on every
  // node and decided on the master, each line naming the transaction, the epoch and the node.
  await waitFor('every node logged every commit', async () =>
    ids.every((id) => [...nodes.values()].every((node) => node.stderr.includes(`"transaction_id":"${id}"`) && /"event":"committed"/.test(node.stderr))),
  );
  for (const [addr, node] of nodes) {
    const lines = parseLogLines(node.stderr);
    t.true(lines.every((line) => line['addr'] === addr && typeof line['epoch'] === 'number' && typeof line['event'] === 'string' && typeof line['time'] === 'string'), `${addr}: every line has addr, epoch, event, time`);
    for (const id of ids) {
      const events = lines.filter((line) => line['transaction_id'] === id);
      const expected = addr === master ? ['prepared', 'decided', 'committed'] : ['prepared', 'committed'];
      t.deepEqual(events.map((line) => line['event']), expected, `${addr} ${id}`);
      t.true(events.every((line) => line['epoch'] === epoch && line['level'] === 'info'));
    }
    if (addr === master) t.true(lines.some((line) => line['event'] === 'elected' && line['epoch'] === epoch), 'the election is logged');
  }

  // The dashboard's data is readable cross-origin only by a page served by a member.
  const from = async (origin: string) => (await fetch(`http://${slaves[0]}/dashboard/data`, { headers: { origin }, signal: AbortSignal.timeout(5_000) })).headers.get('access-control-allow-origin');
  t.is(await from(`http://${master}`), `http://${master}`);
  t.is(await from('http://evil.example'), null);

  // A dead peer: the master counts its missed heartbeats and one peer fewer alive.
  const victim = slaves[1]!;
  await nodes.get(victim)!.kill();
  const missed = await waitFor('misses counted', async () => {
    const samples = await scrape(master);
    return (samples.get(`twopc_heartbeat_misses_total{peer="${victim}"}`) ?? 0) >= 3 && samples.get('twopc_alive_peers') === 1 ? samples : undefined;
  }, 20_000, 200);
  t.is(missed.get('twopc_alive_peers'), 1);
  t.true(parseLogLines(nodes.get(master)!.stderr).some((line) => line['event'] === 'peer-dead' && line['peer'] === victim));
});

test.serial('a bad --log-level is a usage error that names the flag', async (t) => {
  const [port] = await findFreePorts(1);
  const run = await runTwopc(['start-node', '--addr', `127.0.0.1:${port}`, '--data-dir', freshDataDir(), '--log-level', 'loud']);
  t.is(run.code, 2);
  t.regex(run.stderr, /--log-level must be one of silent, error, warn, info, debug/);
  t.is(run.stderr.trim().split('\n').length, 1);
  const cluster = await runTwopc(['cluster', '--size', '1', '--base-port', String(port), '--data-dir', freshDataDir(), '--log-level', 'chatty']);
  t.is(cluster.code, 2);
  t.regex(cluster.stderr, /--log-level/);
});

test.serial('twopc cluster --log-level info: the worker threads log JSON lines through the supervisor', async (t) => {
  const ports = await findFreePorts(3);
  const addrs = ports.map((port) => `127.0.0.1:${port}`);
  const supervisor = new TwopcProcess(['cluster', '--size', '3', '--base-port', String(ports[0]), '--data-dir', freshDataDir(), '--log-level', 'info']);
  const master = await waitForMaster(addrs);
  const answer = await request(master, 'POST', '/transactions', { payload: { from: 'cluster' } }, 15_000);
  t.is(answer.status, 200);
  const id = answer.body.transaction_id as string;
  const logged = await waitFor('a committed line from every node', async () => {
    const lines = supervisor.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const committed = lines.filter((line) => line['transaction_id'] === id && line['event'] === 'committed');
    return committed.length === 3 ? committed : undefined;
  });
  t.deepEqual(logged.map((line) => line['addr']).sort(), [...addrs].sort());
  t.true(logged.every((line) => typeof line['epoch'] === 'number' && line['epoch'] >= 1));
  // Three nodes in one process, each with a registry of its own.
  const scrapes = await Promise.all(addrs.map(scrape));
  t.deepEqual(scrapes.map((samples) => samples.get('twopc_is_master')).sort(), [0, 0, 1]);
  t.true(scrapes.every((samples) => samples.get('twopc_participant_transitions_total{state="COMMITTED"}') === 1));
  supervisor.signal('SIGTERM');
  t.truthy(await supervisor.exitWithin(20_000), 'the supervisor stops on SIGTERM');
});

// twopc_commit_duration_seconds times phase two of a round with COMMITs, one sample a round:
// a round of aborts only has none (it had counted one, as if it committed).
test.serial('a round that aborts is timed in phase one but not as a commit\'s phase two', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, failpoints: true });
  t.teardown(() => cluster.stop());
  const master = await cluster.waitForMaster();
  const failing = cluster.addrs.find((addr) => addr !== master)!;
  const before = await scrape(master);
  const moved_in = (samples: ReadonlyMap<string, number>, key: string) => (samples.get(key) ?? 0) - (before.get(key) ?? 0);
  // A client is answered once a quorum applied its commit; phase two is timed when every
  // participant has answered, a moment later. So a commit goes before the abort and one after
  // it, and the counts are read once the second commit is timed and a moment more.
  t.is((await cluster.submit({ b: 1 })).status, 200);
  t.is((await request(failing, 'POST', '/debug/failpoints', { name: 'before-prepare-vote', action: 'abort' })).status, 200);
  t.is((await cluster.submit({ a: 1 })).status, 409);
  t.is((await request(failing, 'POST', '/debug/failpoints', { name: 'before-prepare-vote', action: 'off' })).status, 200);
  t.is((await cluster.submit({ c: 1 })).status, 200);
  await waitFor('both committing rounds timed', async () => moved_in(await scrape(master), 'twopc_commit_duration_seconds_count') >= 2);
  // Had the aborted round been timed too, the second commit's sample would follow within a
  // round trip: give it a second to show, then count.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const after = await scrape(master);
  const moved = (key: string) => moved_in(after, key);
  t.is(moved('twopc_prepare_duration_seconds_count'), 3, 'all three rounds prepared');
  t.is(moved('twopc_commit_duration_seconds_count'), 2, 'only the committing rounds have a phase two of a COMMIT');
});
