/**
 * The systems `twopc bench --compare` loads beside twopc, over real processes: a real
 * 3-member etcd started on free loopback ports, written through its leader's JSON gateway
 * by both load generators (every request a key no other request wrote: etcd's revision
 * counts each put, so keys = puts), then stopped with every process gone and its data
 * removed; three real PostgreSQL servers written through the bench's two-phase-commit front
 * (every committed key on all three, no prepared transaction left behind), then stopped the
 * same way; a system that is not installed comes back as a row with the reason and no
 * figures; and a started system is loaded only once it answered one real write with success,
 * its row failing with the reason (and the system stopped) when it never does. Skipped with the reason where etcd (Debian etcd-server) or PostgreSQL
 * (postgresql-15) is not installed; the wrk half where wrk is not. Nothing asserts speed.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { call, closeHttp } from '../../lib/bench/http.ts';
import { chooseGenerator, findWrk } from '../../lib/bench/generator.ts';
import { newRunPrefix, runLoad } from '../../lib/bench/load.ts';
import { Progress } from '../../lib/bench/progress.ts';
import { measureSystem } from '../../lib/bench/systems-table.ts';
import { twopcSystem } from '../../lib/bench/systems/twopc.ts';
import { etcdSystem, findEtcd } from '../../lib/bench/systems/etcd.ts';
import { runWrk } from '../../lib/bench/wrk.ts';
import { etcd_put, unique_keys } from '../../lib/bench/workloads.ts';
import { findPostgres, postgresSystem } from '../../lib/bench/systems/postgres.ts';
import { loadPg } from '../../lib/bench/systems/postgres-front.ts';
import type { RunningSystem, SystemSpec } from '../../lib/bench/systems/system.ts';

const etcd = findEtcd();
const withEtcd = etcd === undefined ? test.skip : test;
const skip_reason = etcd === undefined ? ' (skipped: etcd is not installed, Debian package etcd-server)' : '';
const postgres = findPostgres();
const withPostgres = postgres === null ? test.skip : test;
const postgres_skip_reason = postgres === null ? ' (skipped: PostgreSQL is not installed, Debian package postgresql-15)' : '';

test.after.always(closeHttp);

/** A Progress whose lines are kept for the test to read. */
function quietProgress(): { readonly progress: Progress; readonly lines: string[] } {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (text: string) => lines.push(text) } as unknown as NodeJS.WriteStream;
  return { progress: new Progress(stream), lines };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function acceptsConnections(addr: string): Promise<boolean> {
  const [host, port] = addr.split(':');
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** How many keys etcd holds, and its revision (one more than the puts it has applied). */
async function etcdCounts(addr: string): Promise<{ readonly keys: number; readonly revision: number }> {
  // Every key: from "\0" to the end of the keyspace ("\0" as range_end).
  const answer = await call(addr, 'POST', '/v3/kv/range', { key: 'AA==', range_end: 'AA==', count_only: true }, 5_000);
  return { keys: Number(answer.body?.count ?? 0), revision: Number(answer.body?.header?.revision ?? 0) };
}

withEtcd(`a real 3-member etcd starts on free ports, takes unique-key puts from both generators on its leader, and stops with its data removed${skip_reason}`, async (t) => {
  t.timeout(90_000);
  const spec = etcdSystem(etcd ?? null);
  t.is(await spec.unavailable(), undefined);
  t.regex(spec.version() ?? '', /etcd Version: \d+\.\d+/);
  const running = await spec.start(() => {});
  const pids = running.pids();
  try {
    t.is(pids.length, 3, 'three member processes');
    t.true(existsSync(running.data_dir));
    const before = await etcdCounts(running.addr);

    const ours = await runLoad(running.addr, 4, 500, etcd_put, newRunPrefix());
    t.true(ours.committed > 0, 'our generator committed puts');
    t.is(ours.errors, 0);
    let committed = ours.committed;
    const wrk = findWrk();
    if (wrk === undefined) t.log('wrk is not installed (Debian package wrk): its half is skipped');
    else {
      const by_wrk = await runWrk(wrk, running.addr, etcd_put, 4, 1_000, newRunPrefix());
      t.true(by_wrk.committed > 0, 'wrk committed puts');
      t.is(by_wrk.errors, 0);
      t.true(by_wrk.latency.p50_ms > 0 && by_wrk.latency.p50_ms <= by_wrk.latency.p99_ms);
      committed += by_wrk.committed;
    }
    const after = await etcdCounts(running.addr);
    const puts = after.revision - before.revision;
    t.is(after.keys - before.keys, puts, 'every put wrote a key no other put wrote');
    // wrk may have had requests in flight when it stopped counting: applied, not counted.
    t.true(puts >= committed, `${puts} puts applied for ${committed} answered`);
  } finally {
    await running.stop();
  }
  await assertStopped(t, running, pids);
});

withEtcd(`the systems table's etcd row: writes/s at 64 connections, p50 and p99 at one${skip_reason}`, async (t) => {
  t.timeout(90_000);
  const { progress, lines } = quietProgress();
  const row = await measureSystem(etcdSystem(etcd ?? null), chooseGenerator(undefined), { throughput_ms: 1_000, latency_ms: 1_000 }, progress);
  t.is(row.skipped, null);
  t.is(row.members, 3);
  t.is(row.throughput?.clients, 64);
  t.true((row.throughput?.committed ?? 0) > 0);
  t.is(row.throughput?.errors, 0);
  t.is(row.latency?.clients, 1);
  t.true((row.latency?.latency.p50_ms ?? 0) > 0);
  t.true((row.latency?.latency.p50_ms ?? 0) <= (row.latency?.latency.p99_ms ?? 0));
  t.is(row.hot_keys, null, 'the hot-key workload is twopc\'s');
  t.true(lines.some((line) => /etcd, 3 members: stopping/.test(line)));
});

/** After `stop`: every server process gone, the data dir removed, nothing listening at `addr`. */
async function assertStopped(t: ExecutionContext, running: RunningSystem, pids: readonly number[]): Promise<void> {
  for (const pid of pids) t.false(isAlive(pid), `server process ${pid} is gone`);
  t.false(existsSync(running.data_dir), 'its data dir is removed');
  t.false(await acceptsConnections(running.addr), `nothing listens on ${running.addr} any more`);
}

withPostgres(`three real PostgreSQL servers take two-phase commits through the bench's front, every key on all three, and stop with their data removed${postgres_skip_reason}`, async (t) => {
  t.timeout(120_000);
  const spec = postgresSystem(postgres);
  t.is(await spec.unavailable(), undefined);
  t.regex(spec.version() ?? '', /PostgreSQL\) \d+/);
  const running = await spec.start(() => {});
  const pids = running.pids();
  try {
    t.is(pids.length, 3, 'three postmaster processes');
    t.is(running.members.length, 3);
    const ours = await runLoad(running.addr, 4, 500, unique_keys, newRunPrefix());
    t.true(ours.committed > 0, 'our generator committed');
    t.is(ours.errors, 0);
    const refused = await call(running.addr, 'POST', '/transactions', { payload: {} }, 5_000);
    t.is(refused.status, 400, 'an empty payload is refused');

    const pg = await loadPg();
    if (pg === undefined) throw new Error('pg is a devDependency: npm ci');
    const counts: number[] = [];
    for (const member of running.members) {
      const [host, port] = member.split(':');
      const client = new pg.Client({ host, port: Number(port), user: 'postgres', database: 'postgres' });
      await client.connect();
      try {
        counts.push(Number((await client.query('SELECT count(*) AS n FROM kv')).rows[0].n));
        t.is(Number((await client.query('SELECT count(*) AS n FROM pg_prepared_xacts')).rows[0].n), 0, `${member}: no prepared transaction left`);
      } finally {
        await client.end();
      }
    }
    t.deepEqual(counts, counts.map(() => ours.committed), 'every committed key on every server, nothing else');
  } finally {
    await running.stop();
  }
  await assertStopped(t, running, pids);
});

test('a system that is not installed is a row with the reason and no figures', async (t) => {
  const { progress, lines } = quietProgress();
  const row = await measureSystem(etcdSystem(null), chooseGenerator('node'), { throughput_ms: 1_000, latency_ms: 1_000 }, progress);
  t.is(row.system, 'etcd');
  t.is(row.skipped, 'etcd is not installed (Debian package etcd-server)');
  t.is(row.throughput, null);
  t.is(row.latency, null);
  t.is(row.version, null);
  t.true(lines.some((line) => line.includes('etcd, 3 members: skipped, etcd is not installed')));
  const missing = await measureSystem(postgresSystem(null), chooseGenerator('node'), { throughput_ms: 1_000, latency_ms: 1_000 }, progress);
  t.is(missing.skipped, 'PostgreSQL is not installed (Debian package postgresql-15)');
  t.is(missing.throughput, null);
});

/**
 * A real HTTP server standing for a system that is still settling: it answers its first
 * `refusals` writes 503 (every one when `refusals` is Infinity), then 200. It keeps each
 * written key and its answer, in order.
 */
async function settlingServer(refusals: number): Promise<{ readonly spec: SystemSpec; readonly writes: { key: string; status: number }[]; readonly stops: () => number }> {
  const writes: { key: string; status: number }[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    request.once('end', () => {
      const status = writes.length < refusals ? 503 : 200;
      writes.push({ key: Object.keys(JSON.parse(text).payload)[0] ?? '', status });
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(status === 200 ? { status: 'COMMITTED' } : { error: 'no master yet' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  let stops = 0;
  const twopc = twopcSystem(1);
  const spec: SystemSpec = {
    ...twopc,
    label: 'settling',
    hot_keys: false,
    start: async () => ({
      addr,
      members: [addr],
      data_dir: '',
      pids: () => [],
      stop: async () => {
        stops += 1;
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    }),
  };
  return { spec, writes, stops: () => stops };
}

test('a started system is loaded only after it answered one write with success, and each next run only after another', async (t) => {
  const { progress, lines } = quietProgress();
  const { spec, writes, stops } = await settlingServer(3);
  const row = await measureSystem(spec, chooseGenerator('node'), { throughput_ms: 200, latency_ms: 200 }, progress, 10_000);
  t.is(row.skipped, null);
  t.deepEqual(writes.slice(0, 4).map((write) => write.status), [503, 503, 503, 200], 'written until one write succeeded');
  t.true(writes.slice(0, 4).every((write) => write.key.startsWith('ready-')), 'those writes came before any load run');
  // Warm-up, 64 connections, 1 connection: each begun after one such write, on keys of its own.
  const runs = writes.map((write) => write.key.startsWith('ready-')).reduce<boolean[]>((kinds, ready) => (kinds.at(-1) === ready ? kinds : [...kinds, ready]), []);
  t.deepEqual(runs, [true, false, true, false, true, false], 'a write answered with success before each of the three runs');
  t.is(new Set(writes.filter((write) => write.key.startsWith('ready-')).map((write) => write.key)).size, writes.filter((write) => write.key.startsWith('ready-')).length, 'each try a new key');
  t.true((row.throughput?.committed ?? 0) > 0 && (row.latency?.committed ?? 0) > 0, 'each measured run committed');
  t.is(stops(), 1, 'stopped once');
  t.true(lines.some((line) => line.includes('settling: waiting for its first write to succeed')));
});

test('a started system that never answers a write with success is a failed row with the reason, and is stopped', async (t) => {
  const { progress, lines } = quietProgress();
  const { spec, writes, stops } = await settlingServer(Number.POSITIVE_INFINITY);
  const row = await measureSystem(spec, chooseGenerator('node'), { throughput_ms: 200, latency_ms: 200 }, progress, 1_000);
  const reason = 'did not answer a write with success within 1000 ms before its warm-up (last answer: HTTP 503 {"error":"no master yet"})';
  t.is(row.skipped, reason);
  t.is(row.throughput, null);
  t.is(row.latency, null);
  t.true(writes.length > 1 && writes.every((write) => write.key.startsWith('ready-')), 'retried, and no load run was started');
  t.is(new Set(writes.map((write) => write.key)).size, writes.length, 'each try a new key');
  t.is(stops(), 1, 'stopped');
  t.true(lines.some((line) => line.includes(`settling: ${reason}`)));
});
