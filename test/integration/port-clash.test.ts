/**
 * A port taken between the pick and the node's bind (another test, chaos or bench run on the
 * same machine picking from the same range): the node still fails loudly ("address already
 * in use"), and `ProcessCluster.launch` starts the cluster again on newly picked ports, a
 * bounded number of times. The clash is real: the test binds the picked port itself after
 * it was found free, as the other process would.
 */
import test from 'ava';
import { createServer, type Server } from 'node:net';
import { ProcessCluster } from '../../lib/process-cluster/process-cluster.ts';
import { findFreePorts } from '../../lib/util/free-ports.ts';
import { port_clash_attempts_max } from '../../lib/util/port-clash.ts';

const held: Server[] = [];

test.after.always(async () => {
  await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
});

/** Free ports, the first of which this process then binds: taken before the node binds it. */
async function pickThenTake(count: number): Promise<readonly number[]> {
  const ports = await findFreePorts(count);
  // A connection to it (a probe of the harness) is closed at once, as no twopc node is there.
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ports[0], '127.0.0.1', () => resolve());
  });
  held.push(server);
  return ports;
}

test('a node whose port was taken after the pick fails loudly, and launch starts the cluster again on new ports', async (t) => {
  t.timeout(120_000);
  const picked: (readonly number[])[] = [];
  const clashes: { readonly attempt: number; readonly message: string }[] = [];
  const { cluster, master } = await ProcessCluster.launch(
    1,
    { label: 'port-clash' },
    (error, attempt) => clashes.push({ attempt, message: String(error) }),
    async (count) => {
      const ports = picked.length === 0 ? await pickThenTake(count) : await findFreePorts(count);
      picked.push(ports);
      return ports;
    },
  );
  try {
    t.is(picked.length, 2, 'ports picked twice');
    t.is(clashes.length, 1);
    t.is(clashes[0]?.attempt, 1);
    t.regex(clashes[0]?.message ?? '', new RegExp(`cannot listen on 127\\.0\\.0\\.1:${picked[0]?.[0]}: address already in use`), 'the node said why it exited');
    t.deepEqual(cluster.addrs, picked[1]?.map((port) => `127.0.0.1:${port}`), 'the cluster runs on the second pick');
    t.is(master, cluster.addrs[0] ?? '');
    t.true(cluster.isRunning(master));
  } finally {
    await cluster.stop();
  }
});

test(`a port taken at every start fails launch after ${port_clash_attempts_max} attempts, naming the clash`, async (t) => {
  t.timeout(120_000);
  let picks = 0;
  const clashes: number[] = [];
  const error = await t.throwsAsync(
    ProcessCluster.launch(1, { label: 'port-clash' }, (_, attempt) => clashes.push(attempt), async (count) => {
      picks += 1;
      return pickThenTake(count);
    }),
  );
  t.is(picks, port_clash_attempts_max);
  t.deepEqual(clashes, [1, 2].slice(0, port_clash_attempts_max - 1));
  t.regex(error?.message ?? '', new RegExp(`a port was taken at start-up on each of ${port_clash_attempts_max} attempts`));
  t.regex(error?.message ?? '', /address already in use/);
});
