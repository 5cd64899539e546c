/**
 * Misbehaving connections against three real node processes on loopback (issue 14, item
 * 12): 500 slowloris connections were not cut in 25 s, and about 19,500 silent connections
 * locked new clients out while peers still counted the node alive. Each node here runs with
 * 2,048 file descriptors (prlimit), so a few thousand silent connections would exhaust it.
 */
import test from 'ava';
import { connect, type Socket } from 'node:net';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { request, waitFor } from '../helpers/http.ts';
import { default_connection_limits } from '../../lib/transport/connection-guard.ts';

const node_fds = 2_048;
let cluster: ProcessCluster;

test.before(async () => {
  cluster = await ProcessCluster.start({ size: 3, prefix: () => ['prlimit', `--nofile=${node_fds}:${node_fds}`] });
});

test.after.always(async (t) => {
  for (const addr of cluster?.addrs ?? []) if (!cluster.isRunning(addr)) t.log(`${addr} died:\n${cluster.outputOf(addr)}`);
  await cluster?.stop();
});

/** Open a connection to `addr`; resolves once connected. `closed` settles when the server (or anyone) closes it. */
function open(addr: string): Promise<{ readonly socket: Socket; readonly closed: Promise<void> }> {
  const [host, port] = addr.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
}

test.serial('slowloris connections that trickle their headers are cut after header_timeout_ms', async (t) => {
  const master = await cluster.waitForMaster();
  const connections = await Promise.all(Array.from({ length: 100 }, () => open(master)));
  let cut = 0;
  for (const { closed } of connections) void closed.then(() => (cut += 1));
  // One byte every 500 ms, never finishing the headers: what Node alone let live 60 s and more.
  const trickle = setInterval(() => {
    for (const { socket } of connections) if (!socket.destroyed) socket.write('a');
  }, 500);
  for (const { socket } of connections) socket.write('GET /health HTTP/1.1\r\nHost: twopc\r\nX-Slow: ');
  try {
    await waitFor('every slowloris connection cut', async () => cut === connections.length, default_connection_limits.header_timeout_ms * 4, 100);
  } finally {
    clearInterval(trickle);
    for (const { socket } of connections) socket.destroy();
  }
  t.is(cut, connections.length);
  t.is((await request(master, 'GET', '/health')).status, 200);
});

test.serial('with thousands of silent connections open, peers still see the node alive and a client can still commit', async (t) => {
  const master = await cluster.waitForMaster();
  const silent: Socket[] = [];
  try {
    // More than the node has descriptors for: without a cap it could accept nothing more.
    for (let batch = 0; batch < 25; batch += 1) {
      const opened = await Promise.allSettled(Array.from({ length: 100 }, () => open(master)));
      for (const result of opened) if (result.status === 'fulfilled') silent.push(result.value.socket);
    }
    t.true(silent.length >= 2_000, `${silent.length} connections opened`);
    await waitFor('the oldest silent connections closed', async () => silent.filter((socket) => !socket.destroyed).length <= default_connection_limits.client_connections_max, 10_000, 100);
    // A few heartbeats later every node still counts every node alive, and the master is the same.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const addr of cluster.addrs) {
      const role = await request(addr, 'GET', '/role');
      t.is(role.status, 200, addr);
      t.is(role.body.master, master, addr);
      t.true((role.body.nodes as { alive: boolean }[]).every((node) => node.alive), `${addr}: ${JSON.stringify(role.body.nodes)}`);
    }
    const committed = await cluster.submit({ through: 'the crowd' });
    t.is(committed.status, 200, JSON.stringify(committed.body));
  } finally {
    for (const socket of silent) socket.destroy();
  }
  await cluster.checkConsistent();
});
