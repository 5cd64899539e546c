/**
 * The CLI's pure helpers: address lists, flags, payload parsing, tables.
 */
import test from 'ava';
import { findFreePorts, port_min_default, port_span_default, portRange } from '../../lib/util/free-ports.ts';
import { parseBenchFlags } from '../../lib/cli/bench.ts';
import { chaos_scenario_names } from '../../lib/cli/chaos-scenario-names.ts';
import { scenario_names } from '../../lib/chaos/scenarios.ts';
import { isEcho, repeated_signal_window_ms } from '../../lib/cli/signals.ts';
import { parsePayload } from '../../lib/cli/commit.ts';
import { UsageError } from '../../lib/cli/exit.ts';
import { flagInteger, flagSwitch } from '../../lib/cli/flags.ts';
import { addrUrl, default_nodes, parseAddr, parseAddrList, resolveNodes } from '../../lib/cli/nodes.ts';
import { isLoopbackHost } from '../../lib/security/bind-policy.ts';
import { requireSecretFor } from '../../lib/cli/secret.ts';
import { formatTable } from '../../lib/util/text-table.ts';
import { clusterAddrs } from '../../lib/supervisor/supervisor.ts';

test('addresses parse as host:port and keep their spelling', (t) => {
  t.deepEqual(parseAddr('127.0.0.1:8081'), { addr: '127.0.0.1:8081', host: '127.0.0.1', port: 8081 });
  t.deepEqual(parseAddr('[::1]:9000'), { addr: '[::1]:9000', host: '::1', port: 9000 });
  t.is(addrUrl('[::1]:9000'), 'http://[::1]:9000');
  for (const bad of ['x', ':80', 'host:', 'host:0', 'host:65536', 'host:8a', 'a b:80', '::1:80']) {
    t.throws(() => parseAddr(bad), { instanceOf: UsageError }, bad);
  }
});

test('--nodes, then TWOPC_NODES, then the three local defaults', (t) => {
  t.deepEqual(resolveNodes('a:1, b:2'), ['a:1', 'b:2']);
  t.deepEqual(resolveNodes(undefined, { TWOPC_NODES: 'c:3' }), ['c:3']);
  t.deepEqual(resolveNodes(undefined, {}), default_nodes);
  t.throws(() => parseAddrList('a:1,a:1', '--nodes'), { instanceOf: UsageError, message: /twice/ });
  t.throws(() => resolveNodes(true), { instanceOf: UsageError });
});

test('flags: integers in range, switches from flag or env', (t) => {
  t.is(flagInteger(10000, '--timeout', 1, 100000), 10000);
  t.is(flagInteger('5', '--size', 1, 64), 5);
  t.throws(() => flagInteger('0', '--size', 1, 64), { instanceOf: UsageError, message: /--size/ });
  t.throws(() => flagInteger('1.5', '--size', 1, 64), { instanceOf: UsageError });
  t.throws(() => flagInteger('10s', '--timeout', 1, 100), { instanceOf: UsageError });
  t.true(flagSwitch(true));
  t.true(flagSwitch(undefined, '1'));
  t.false(flagSwitch(undefined, undefined));
});

test('a payload must be a JSON object the node accepts', (t) => {
  t.deepEqual(parsePayload('{"a":1,"b":null}'), { a: 1, b: null });
  for (const bad of ['[1]', '"x"', '1', '{}', '{bad', '{"__proto__":1}', JSON.stringify({ ['k'.repeat(257)]: 1 })]) {
    t.throws(() => parsePayload(bad), { instanceOf: UsageError }, bad);
  }
});

test('off loopback a node needs a secret', (t) => {
  t.true(isLoopbackHost('127.0.0.1') && isLoopbackHost('127.1.2.3') && isLoopbackHost('localhost') && isLoopbackHost('::1'));
  t.false(isLoopbackHost('0.0.0.0') || isLoopbackHost('10.0.0.1'));
  t.throws(() => requireSecretFor('10.0.0.1', undefined, false), { instanceOf: UsageError, message: /secret/ });
  t.notThrows(() => requireSecretFor('10.0.0.1', 'x'.repeat(32), false));
  t.notThrows(() => requireSecretFor('127.0.0.1', undefined, true));
});

test('tables pad columns', (t) => {
  t.is(formatTable(['A', 'BB'], [['xxx', 'y']]), 'A    BB\nxxx  y');
});

test('cluster nodes are host:basePort+i', (t) => {
  t.deepEqual(clusterAddrs('127.0.0.1', 8081, 3), ['127.0.0.1:8081', '127.0.0.1:8082', '127.0.0.1:8083']);
});

test('chaos --help names every scenario the chaos code has, and no other', (t) => {
  t.deepEqual([...chaos_scenario_names], [...scenario_names]);
});

test('a repeat of the first shutdown signal within the window is its echo; later, or another signal, is the user insisting', (t) => {
  const first = { signal: 'SIGINT' as const, at_ms: 1_000 };
  t.true(isEcho(first, 'SIGINT', 1_000));
  t.true(isEcho(first, 'SIGINT', 1_000 + repeated_signal_window_ms - 1));
  t.false(isEcho(first, 'SIGINT', 1_000 + repeated_signal_window_ms));
  t.false(isEcho(first, 'SIGTERM', 1_001));
});

test('test ports: 20000-31999 unless TWOPC_TEST_PORT_MIN / _SPAN move them; a bad range is refused', async (t) => {
  t.deepEqual(portRange({}), { min: port_min_default, span: port_span_default });
  t.deepEqual(portRange({ TWOPC_TEST_PORT_MIN: '40000', TWOPC_TEST_PORT_SPAN: '50' }), { min: 40_000, span: 50 });
  t.throws(() => portRange({ TWOPC_TEST_PORT_MIN: 'x' }), { message: /TWOPC_TEST_PORT_MIN must be a whole number/ });
  t.throws(() => portRange({ TWOPC_TEST_PORT_MIN: '65000', TWOPC_TEST_PORT_SPAN: '1000' }), { message: /within 1024-65535/ });
  t.throws(() => portRange({ TWOPC_TEST_PORT_MIN: '9990', TWOPC_TEST_PORT_SPAN: '20' }), { message: /one digit count/ });
  // Real sockets: the ports found lie in the range asked for.
  const ports = await findFreePorts(3, portRange({ TWOPC_TEST_PORT_MIN: '41000', TWOPC_TEST_PORT_SPAN: '10' }));
  t.is(ports.length, 3);
  t.true(ports.every((port) => port >= 41_000 && port < 41_010), ports.join(','));
  await t.throwsAsync(findFreePorts(11, { min: 41_000, span: 10 }), { message: /do not fit/ });
});

test('bench --size N is the node count; --nodes N the same; a list or both are refused', (t) => {
  t.is(parseBenchFlags({ size: '4' }).settings.nodes, 4);
  t.is(parseBenchFlags({ nodes: '5' }).settings.nodes, 5);
  t.is(parseBenchFlags({}).settings.nodes, 3);
  t.throws(() => parseBenchFlags({ nodes: '127.0.0.1:8081,127.0.0.1:8082' }), { instanceOf: UsageError, message: /count of nodes .* --size 3/ });
  t.throws(() => parseBenchFlags({ size: '3', nodes: '3' }), { instanceOf: UsageError, message: /not both/ });
});
