import test from 'ava';
import { signRequest, signature_window_ms, verifyRequest, type SignedParts } from '../../lib/security/signature.ts';
import { ReplayGuard } from '../../lib/security/replay-guard.ts';
import { checkBindPolicy } from '../../lib/security/bind-policy.ts';
import { isClientRoute, parseClientKeys, parseCredential } from '../../lib/security/client-keys.ts';

const secret = 's'.repeat(32);
const parts: SignedParts = { method: 'POST', path: '/transactions', node: '10.0.0.1:8081', body: '{"payload":{"a":1}}' };
const now = 1_700_000_000_000;
const lookup = (headers: Readonly<Record<string, string>>) => (name: string) => headers[name] ?? null;

test('a signed request verifies', (t) => {
  const headers = signRequest(secret, parts, now);
  t.like(verifyRequest(secret, parts, lookup(headers), now + 5), { ok: true });
});

test('any change to method, path, body, timestamp or secret breaks the signature', (t) => {
  const headers = signRequest(secret, parts, now);
  t.like(verifyRequest(secret, { ...parts, body: '{"payload":{"a":2}}' }, lookup(headers), now), { ok: false, reason: 'body does not match its signature' });
  t.like(verifyRequest(secret, parts, lookup({ ...headers, 'x-twopc-content-sha256': 'a'.repeat(64) }), now), { ok: false, reason: 'bad signature' });
  t.like(verifyRequest(secret, { ...parts, path: '/prepare' }, lookup(headers), now), { ok: false, reason: 'bad signature' });
  t.like(verifyRequest(secret, { ...parts, method: 'GET' }, lookup(headers), now), { ok: false, reason: 'bad signature' });
  t.like(verifyRequest('t'.repeat(32), parts, lookup(headers), now), { ok: false, reason: 'bad signature' });
  t.like(verifyRequest(secret, parts, lookup({ ...headers, 'x-twopc-timestamp': String(now + 1) }), now), { ok: false, reason: 'bad signature' });
});

// Issue 14, item 10: a captured signed write was replayed to the new master after a failover,
// and to the same master after a restart, and committed again.
test('a signature is good only on the node it names, and only after that node started', (t) => {
  const headers = signRequest(secret, parts, now);
  t.like(verifyRequest(secret, { ...parts, node: '10.0.0.2:8081' }, lookup(headers), now), { ok: false, reason: 'signed for another node (10.0.0.1:8081), this is 10.0.0.2:8081' });
  const { 'x-twopc-node': _named, ...unnamed } = headers;
  t.like(verifyRequest(secret, { ...parts, node: '10.0.0.2:8081' }, lookup(unnamed), now), { ok: false, reason: 'bad signature' }, 'dropping the header does not help');
  t.like(verifyRequest(secret, parts, lookup(headers), now + 5, now + 1), { ok: false, reason: 'signed before this node started' });
  t.like(verifyRequest(secret, parts, lookup(headers), now + 5, now), { ok: true });
});

test('unsigned, malformed and out-of-window requests are refused', (t) => {
  t.like(verifyRequest(secret, parts, () => null, now), { ok: false, reason: 'request is not signed' });
  const headers = signRequest(secret, parts, now);
  t.like(verifyRequest(secret, parts, lookup({ ...headers, 'x-twopc-nonce': 'zz' }), now), { ok: false, reason: 'malformed signature headers' });
  t.like(verifyRequest(secret, parts, lookup(headers), now + signature_window_ms + 1), { ok: false });
  t.like(verifyRequest(secret, parts, lookup(headers), now - signature_window_ms - 1), { ok: false });
  t.like(verifyRequest(secret, parts, lookup({ ...headers, 'x-twopc-signature': 'ab' }), now), { ok: false, reason: 'bad signature' });
});

test('a nonce is admitted once within its window and forgotten after it', (t) => {
  const guard = new ReplayGuard();
  t.true(guard.admit('aaaa', now));
  t.false(guard.admit('aaaa', now + 1), 'a replay is refused');
  t.true(guard.admit('bbbb', now + 1));
  t.true(guard.admit('aaaa', now + 2 * signature_window_ms + 1), 'outside every window a nonce no longer matters');
});

test('binding off loopback needs a secret of at least 32 characters', (t) => {
  t.is(checkBindPolicy('127.0.0.1', undefined), undefined);
  t.regex(checkBindPolicy('0.0.0.0', undefined) ?? '', /secret/);
  t.is(checkBindPolicy('0.0.0.0', secret), undefined);
  t.regex(checkBindPolicy('127.0.0.1', 'short') ?? '', /at least 32/);
});

test('a client key line is a credential of its own; a keys file names each key once', (t) => {
  const key = `twopc-key:alice:${'k'.repeat(32)}`;
  t.deepEqual(parseCredential(key), { kind: 'client-key', name: 'alice', secret: 'k'.repeat(32) });
  t.deepEqual(parseCredential(secret), { kind: 'cluster', secret });
  t.is(parseCredential('twopc-key:alice:short'), undefined);
  t.deepEqual([...parseClientKeys(`# keys\n\n${key}\n`, 'keys')], [['alice', 'k'.repeat(32)]]);
  t.throws(() => parseClientKeys(`${key}\n${key}\n`, 'keys'), { message: /line 2 names the key alice a second time/ });
  t.throws(() => parseClientKeys('not a key\n', 'keys'), { message: /line 1 is not a client key/ });
  const headers = signRequest(key, parts, now);
  t.is(headers['x-twopc-key'], 'alice');
  t.like(verifyRequest(secret, parts, lookup(headers), now, 0, (name) => (name === 'alice' ? 'k'.repeat(32) : undefined)), { ok: true, key: 'alice' });
  t.like(verifyRequest(secret, parts, lookup(headers), now), { ok: false, reason: 'unknown client key' });
  t.like(verifyRequest(secret, parts, lookup({ ...headers, 'x-twopc-key': 'bob' }), now, 0, () => 'k'.repeat(32)), { ok: false, reason: 'bad signature' });
});

const routes: readonly (readonly [string, string, boolean])[] = [
  ['POST', '/transactions', true],
  ['GET', '/transactions/t1', true],
  ['GET', '/kv/a', true],
  ['GET', '/kv', true],
  ['GET', '/health', true],
  ['GET', '/role', true],
  ['GET', '/metrics', true],
  ['GET', '/', true],
  ['GET', '/dashboard/data', true],
  ['POST', '/prepare', false],
  ['POST', '/commit', false],
  ['POST', '/abort', false],
  ['POST', '/prepare-batch', false],
  ['POST', '/decide-batch', false],
  ['POST', '/cluster/claim', false],
  ['POST', '/cluster/join', false],
  ['GET', '/cluster/log', false],
  ['POST', '/debug/failpoints', false],
  ['POST', '/kv/a', false],
];
test('client keys open the client routes only', (t) => {
  for (const [method, path, client] of routes) t.is(isClientRoute(method, path), client, `${method} ${path}`);
});
