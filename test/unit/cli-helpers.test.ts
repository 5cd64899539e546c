/**
 * The CLI's pure helpers: address lists, flags, payload parsing, tables.
 */
import test from 'ava';
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
