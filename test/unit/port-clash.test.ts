/** Which start failures are a port clash (retried on new ports), and how retries are bounded. */
import test from 'ava';
import { isPortClash, port_clash_attempts_max, retryOnPortClash } from '../../lib/util/port-clash.ts';

const clash_texts: readonly [string, boolean][] = [
  ['node 127.0.0.1:20001 exited: twopc: cannot listen on 127.0.0.1:20001: address already in use', true],
  ['etcd member member-0 exited: {"level":"fatal","msg":"listen tcp 127.0.0.1:20002: bind: address already in use"}', true],
  ['postgres on 127.0.0.1:20003 exited: LOG:  could not bind IPv4 address "127.0.0.1": Address already in use', true],
  ['listen EADDRINUSE: address already in use 127.0.0.1:20004', true],
  ['the baseline server exited: GetPortError: Unable to find an available port on host "127.0.0.1" (tried 20005)', true],
  ['node 127.0.0.1:20006 exited: twopc: cannot use data directory /tmp/x: permission denied', false],
  ['timed out after 60000 ms waiting for one master with every running node alive', false],
];

for (const [text, clash] of clash_texts) {
  test(`${clash ? 'a clash' : 'not a clash'}: ${text.slice(0, 70)}`, (t) => {
    t.is(isPortClash(new Error(text)), clash);
  });
}

test('a clash is retried until a start succeeds', async (t) => {
  const heard: number[] = [];
  const result = await retryOnPortClash(async (attempt) => {
    if (attempt < port_clash_attempts_max) throw new Error('cannot listen on 127.0.0.1:20001: address already in use');
    return attempt;
  }, (_, attempt) => heard.push(attempt));
  t.is(result, port_clash_attempts_max);
  t.deepEqual(heard, Array.from({ length: port_clash_attempts_max - 1 }, (_, i) => i + 1));
});

test('any other failure is thrown at once, unretried', async (t) => {
  let starts = 0;
  await t.throwsAsync(retryOnPortClash(async () => {
    starts += 1;
    throw new Error('cannot use data directory: permission denied');
  }), { message: 'cannot use data directory: permission denied' });
  t.is(starts, 1);
});
