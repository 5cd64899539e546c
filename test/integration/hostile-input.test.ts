/**
 * Hostile input against a real cluster of node processes: every case gets its documented
 * 4xx with {"error"} (a prepare refusal is the contract's 500 ABORT vote), the node keeps
 * serving, and no replica's data or last sequence changes. Raw sockets (node:net) send what
 * fetch cannot: stalled and trickled bodies, broken request lines, lying lengths.
 * Complements bad-input.test.ts and authentication.test.ts, which it does not repeat.
 */
import test, { type ExecutionContext } from 'ava';
import { connect } from 'node:net';
import { parseObject, rawExchange } from '../helpers/raw-http.ts';
import { readFileSync } from 'node:fs';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { request } from '../helpers/http.ts';
import { signRequest } from '../../lib/security/signature.ts';
import { default_limits } from '../../lib/node/options.ts';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

interface Snapshot {
  readonly data: string;
  readonly sequences: readonly unknown[];
}

let cluster: ProcessCluster;
let master: string;
let slave: string;

test.before(async () => {
  cluster = await ProcessCluster.start({ size: 3 });
  master = await cluster.waitForMaster();
  slave = cluster.addrs.find((addr) => addr !== master)!;
  const seeded = await cluster.submit({ seed: 'kept', other: [1, { deep: true }] });
  if (seeded.status !== 200) throw new Error('seed commit failed');
  await cluster.checkConsistent();
});

test.after.always(async (t) => {
  for (const addr of cluster?.addrs ?? []) if (!cluster.isRunning(addr)) t.log(`${addr} died:\n${cluster.outputOf(addr)}`);
  await cluster?.stop();
});

/** Every replica's data and last sequence. */
async function snapshot(): Promise<Snapshot> {
  const dumps = await Promise.all(cluster.addrs.map((addr) => cluster.dump(addr)));
  const healths = await Promise.all(cluster.addrs.map((addr) => request(addr, 'GET', '/health')));
  return { data: JSON.stringify(dumps), sequences: healths.map((health) => health.body.last_sequence) };
}

/** Every node still answers /health 200, and nothing any replica holds changed. */
async function assertUnharmed(t: ExecutionContext, before: Snapshot): Promise<void> {
  for (const addr of cluster.addrs) t.is((await request(addr, 'GET', '/health')).status, 200, `${addr} still serves`);
  const after = await snapshot();
  t.deepEqual(after.sequences, before.sequences, 'last sequences unchanged');
  t.is(after.data, before.data, 'data unchanged');
}

function assertError(t: ExecutionContext, answer: Answer, status: number): void {
  t.is(answer.status, status, JSON.stringify(answer.body));
  t.is(typeof answer.body['error'], 'string', JSON.stringify(answer.body));
}

async function send(addr: string, method: string, path: string, body?: string | Blob, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Answer> {
  const response = await fetch(`http://${addr}${path}`, { method, headers, signal: AbortSignal.timeout(10_000), ...(body !== undefined && { body }) });
  const text = await response.text();
  return { status: response.status, body: parseObject(text) };
}

function postHead(path: string, content_length: number | 'chunked'): string {
  const length = content_length === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${content_length}`;
  return `POST ${path} HTTP/1.1\r\nHost: twopc\r\nContent-Type: application/json\r\n${length}\r\n\r\n`;
}

// ---- bodies the JSON layer must refuse -------------------------------------------------

const deep_arrays = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
const deep_objects = `${'{"k":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
const invalid_utf8 = new Blob([Buffer.concat([Buffer.from('{"payload":{"'), Buffer.from([0xff, 0xfe]), Buffer.from('":1}}')])]);

const refused_bodies: readonly (readonly [string, string, string | Blob, number])[] = [
  ['1e309 as a value (Infinity after parsing)', '/transactions', '{"payload":{"a":1e309}}', 400],
  ['-1e309 deep inside a value', '/transactions', '{"payload":{"a":{"b":[-1e309]}}}', 400],
  ['1e309 as an epoch', '/prepare', '{"transaction_id":"inf-epoch","payload":{"a":1},"epoch":1e309}', 400],
  ['NaN literal', '/transactions', '{"payload":{"a":NaN}}', 400],
  // A peer's batch is validated whole too (the payload schema's fast path, lib/protocol/payload.ts).
  ['1e309 deep in the second transaction of a prepare batch', '/prepare-batch', '{"epoch":1,"coordinator":"127.0.0.1:1","transactions":[{"transaction_id":"pb-ok","payload":{"a":1}},{"transaction_id":"pb-inf","payload":{"a":{"b":[1e309]}}}]}', 400],
  ['10 000 nested arrays in a prepare batch payload', '/prepare-batch', `{"epoch":1,"coordinator":"127.0.0.1:1","transactions":[{"transaction_id":"pb-deep","payload":{"a":${deep_arrays}}}]}`, 400],
  ['constructor inside a prepare batch value', '/prepare-batch', '{"epoch":1,"coordinator":"127.0.0.1:1","transactions":[{"transaction_id":"pb-ctor","payload":{"a":{"constructor":1}}}]}', 400],
  ['a decide batch committing at sequence 0', '/decide-batch', '{"epoch":1,"coordinator":"127.0.0.1:1","commits":[{"transaction_id":"db-zero","sequence":0}],"aborts":[]}', 400],
  ['a decide batch without its coordinator', '/decide-batch', '{"epoch":1,"commits":[],"aborts":["db-nocoord"]}', 400],
  ['trailing garbage after the object', '/transactions', '{"payload":{"a":1}} {"payload":{"b":1}}', 400],
  ['a byte-order mark before the JSON', '/transactions', '\ufeff{"payload":{"a":1}}', 400],
  ['invalid UTF-8 in a key', '/transactions', invalid_utf8, 400],
  // Once a 500: the validators recursed until the stack overflowed.
  ['10 000 nested arrays as a value (was a 500: stack overflow)', '/transactions', `{"payload":{"a":${deep_arrays}}}`, 400],
  ['10 000 nested objects as a value (was a 500: stack overflow)', '/transactions', `{"payload":{"a":${deep_objects}}}`, 400],
  ['10 000 nested arrays as the whole body', '/prepare', deep_arrays, 400],
  ['constructor key in the payload', '/transactions', '{"payload":{"constructor":{"prototype":{"polluted":true}}}}', 400],
  ['prototype key in the payload', '/transactions', '{"payload":{"prototype":1}}', 400],
  ['__proto__ at the top of the body', '/transactions', '{"__proto__":{"payload":{"a":1}}}', 400],
  // Once accepted: schema records drop these keys, so the stored value differed from the sent one.
  ['__proto__ inside a value (was stored without it)', '/transactions', '{"payload":{"a":{"__proto__":{"x":1},"y":2}}}', 400],
  // Once accepted: JSON.parse keeps the last duplicate, so what was meant is ambiguous.
  ['duplicate key in the payload (was last-wins)', '/transactions', '{"payload":{"a":1,"a":2}}', 400],
  ['duplicate payload field (was last-wins)', '/transactions', '{"payload":{"a":1},"payload":{"b":2}}', 400],
  ['duplicate key spelled with an escape', '/transactions', '{"payload":{"a":1,"\\u0061":2}}', 400],
  // Once accepted: control characters reached keys, logs and terminals.
  ['NUL inside a key (was accepted)', '/transactions', JSON.stringify({ payload: { 'a\u0000b': 1 } }), 400],
  ['newline inside a key (was accepted)', '/transactions', JSON.stringify({ payload: { 'a\nb': 1 } }), 400],
  ['escape sequence inside a key (was accepted)', '/transactions', JSON.stringify({ payload: { '\u001b[2J': 1 } }), 400],
  // Once accepted: SQLite stored U+FFFD instead, another key than the one sent.
  ['lone surrogate as a key (was stored as another key)', '/transactions', '{"payload":{"\\ud800":1}}', 400],
  ['null as the body', '/transactions', 'null', 400],
  ['a number as the body', '/commit', '42', 400],
  ['a string as the body', '/abort', '"abort everything"', 400],
  ['true as the body', '/cluster/join', 'true', 400],
  ['payload null', '/transactions', '{"payload":null}', 400],
  ['payload a number', '/prepare', '{"transaction_id":"p-num","payload":7}', 400],
  ['payload with 1001 keys', '/transactions', JSON.stringify({ payload: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i])) }), 400],
  ['transaction_id of 129 characters', '/transactions', JSON.stringify({ payload: { a: 1 }, transaction_id: 't'.repeat(129) }), 400],
  ['a fractional epoch', '/prepare', '{"transaction_id":"frac","payload":{"a":1},"epoch":1.5}', 400],
  // Once accepted: the node adopted epoch 1e308, and no later master could claim a higher one.
  ['epoch 1e308 (was adopted, freezing epochs)', '/prepare', '{"transaction_id":"huge-epoch","payload":{"a":1},"epoch":1e308}', 400],
  ['sequence beyond safe integers', '/commit', '{"transaction_id":"huge-seq","sequence":18014398509481984}', 400],
  ['participants not an array', '/prepare', '{"transaction_id":"parts","payload":{"a":1},"participants":"everyone"}', 400],
  ['coordinator not an address', '/prepare', '{"transaction_id":"coord","payload":{"a":1},"coordinator":"http://evil"}', 400],
  ['join with port 99999', '/cluster/join', '{"addr":"127.0.0.1:99999"}', 400],
  ['leave naming the node itself', '/cluster/leave', 'SELF', 400],
];

for (const [name, path, body, status] of refused_bodies) {
  test.serial(`${name}: ${path} answers ${status} {"error"} and nothing changes`, async (t) => {
    const before = await snapshot();
    const target = path === '/transactions' ? master : slave;
    const sent = body === 'SELF' ? JSON.stringify({ addr: target }) : body;
    assertError(t, await send(target, 'POST', path, sent), status);
    await assertUnharmed(t, before);
  });
}

// ---- bodies too big, too slow, or cut off -------------------------------------------

test.serial('a 10 MB body declared in Content-Length gets 413 before it is sent', async (t) => {
  const before = await snapshot();
  const answer = await rawExchange(master, postHead('/transactions', 10 * 1024 * 1024));
  assertError(t, answer, 413);
  await assertUnharmed(t, before);
});

test.serial('a 10 MB body streamed without a length gets 413 while it arrives', async (t) => {
  const before = await snapshot();
  const chunk = `${(64 * 1024).toString(16)}\r\n${'x'.repeat(64 * 1024)}\r\n`;
  const answer = await rawExchange(master, postHead('/transactions', 'chunked'), (socket) => {
    // Paced, and stopped at the first byte of the answer: writing on after the node closed
    // draws a reset, which can discard an answer not read yet.
    let sent = 0;
    let answered = false;
    socket.once('data', () => (answered = true));
    const pump = (): void => {
      if (answered || socket.destroyed || sent === 160) return;
      sent += 1;
      socket.write(chunk);
      setTimeout(pump, 2);
    };
    pump();
  });
  assertError(t, answer, 413);
  await assertUnharmed(t, before);
});

const body_read_timeout_ms = default_limits.body_read_timeout_ms;

// Once a hang: Node's own request timeout is 5 minutes, checked every 30 s.
test.serial(`a body that stalls after its headers gets 408 within body_read_timeout_ms (was a hang)`, async (t) => {
  const before = await snapshot();
  const answer = await rawExchange(master, `${postHead('/transactions', 100)}{"payload":`);
  assertError(t, answer, 408);
  t.true(answer.elapsed_ms >= body_read_timeout_ms - 200, `answered after ${answer.elapsed_ms} ms`);
  t.true(answer.elapsed_ms < body_read_timeout_ms + 5_000, `answered after ${answer.elapsed_ms} ms`);
  await assertUnharmed(t, before);
});

test.serial('a body trickled one byte every 300 ms gets 408 and nothing of it is applied', async (t) => {
  const before = await snapshot();
  const body = JSON.stringify({ payload: { trickled: 'x'.repeat(100) } });
  let timer: NodeJS.Timeout | undefined;
  const answer = await rawExchange(slave, postHead('/prepare', body.length + 40), (socket) => {
    let at = 0;
    timer = setInterval(() => {
      if (at < body.length && !socket.destroyed) socket.write(body[at++]!);
    }, 300);
  });
  clearInterval(timer);
  assertError(t, answer, 408);
  await assertUnharmed(t, before);
});

test.serial('a connection dropped half-way through a prepare body changes nothing', async (t) => {
  const before = await snapshot();
  const [host, port] = slave.split(':') as [string, string];
  await new Promise<void>((resolve) => {
    const socket = connect(Number(port), host, () => {
      socket.write(`${postHead('/prepare', 500)}{"transaction_id":"cut-off","payload":{"seed":"overwritten"`);
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 200);
    });
    socket.on('error', () => undefined);
  });
  t.is((await request(slave, 'GET', '/transactions/cut-off')).body.state, 'UNKNOWN');
  await assertUnharmed(t, before);
});

// ---- requests Node's HTTP parser refuses --------------------------------------------

test.serial('20 KB of headers get 431 {"error"}', async (t) => {
  const before = await snapshot();
  assertError(t, await send(master, 'GET', '/health', undefined, { 'x-big': 'a'.repeat(20_000) }), 431);
  await assertUnharmed(t, before);
});

test.serial('3000 headers get 431 {"error"}', async (t) => {
  const before = await snapshot();
  const headers = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`x-h${i}`, 'v']));
  assertError(t, await send(master, 'GET', '/health', undefined, headers), 431);
  await assertUnharmed(t, before);
});

test.serial('a garbage request line gets 400 {"error"}', async (t) => {
  const before = await snapshot();
  assertError(t, await rawExchange(master, 'HELLO THERE\r\n\r\n'), 400);
  await assertUnharmed(t, before);
});

test.serial('Content-Length and Transfer-Encoding together (request smuggling) get 400 {"error"}', async (t) => {
  const before = await snapshot();
  const head = 'POST /transactions HTTP/1.1\r\nHost: twopc\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
  assertError(t, await rawExchange(master, head), 400);
  await assertUnharmed(t, before);
});

test.serial('a control character in a header value gets 400 {"error"}', async (t) => {
  const before = await snapshot();
  assertError(t, await rawExchange(master, 'GET /health HTTP/1.1\r\nHost: twopc\r\nX-Evil: a\u0001b\r\n\r\n'), 400);
  await assertUnharmed(t, before);
});

// ---- paths, queries and methods -----------------------------------------------------

const refused_reads: readonly (readonly [string, string, number])[] = [
  ['a lone % in a key', '/kv/%', 400],
  ['%zz in a key', '/kv/%zz', 400],
  ['a truncated UTF-8 escape in a transaction id', '/transactions/%E0%A4%A', 400],
  ['an encoded NUL in a key', '/kv/a%00b', 400],
  ['an encoded escape sequence in a key', '/kv/%1B%5B2J', 400],
  ['a key of 300 characters', `/kv/${'k'.repeat(300)}`, 400],
  ['path traversal in a transaction id', '/transactions/..%2F..%2Fetc%2Fpasswd', 400],
  ['limit given twice', '/kv?limit=1&limit=2', 400],
  ['after longer than a key', `/kv?after=${'a'.repeat(300)}`, 400],
  ['a negative log position', '/cluster/log?after=-1', 400],
  ['a log position in exponent form', '/cluster/log?after=1e3', 400],
];

for (const [name, path, status] of refused_reads) {
  test.serial(`${name}: GET ${path.slice(0, 60)} answers ${status} {"error"}`, async (t) => {
    const before = await snapshot();
    assertError(t, await send(slave, 'GET', path, undefined, {}), status);
    await assertUnharmed(t, before);
  });
}

const wrong_methods: readonly (readonly [string, string])[] = [
  ['PUT', '/transactions'],
  ['DELETE', '/kv/seed'],
  ['GET', '/commit'],
  ['PATCH', '/health'],
  ['DELETE', '/cluster/join'],
];

test.serial('wrong methods get 404 or 405 {"error"} and delete nothing', async (t) => {
  const before = await snapshot();
  for (const [method, path] of wrong_methods) {
    const answer = await send(master, method, path, method === 'GET' ? undefined : '{"transaction_id":"x"}');
    t.true([404, 405].includes(answer.status), `${method} ${path}: ${answer.status}`);
    t.is(typeof answer.body['error'], 'string', `${method} ${path}`);
  }
  await assertUnharmed(t, before);
});

// ---- stale epochs and unknown ids -----------------------------------------------------

test.serial('a prepare, commit and abort from an older epoch are refused; the newer epoch then aborts cleanly', async (t) => {
  const before = await snapshot();
  const epoch = (await request(slave, 'GET', '/health')).body.epoch as number;
  t.true(epoch >= 1, `epoch ${epoch}`);
  const stale_prepare = await send(slave, 'POST', '/prepare', JSON.stringify({ transaction_id: 'stale-p', payload: { seed: 'stale' }, epoch: epoch - 1, coordinator: master }));
  t.is(stale_prepare.status, 500);
  t.like(stale_prepare.body, { status: 'ABORT', reason: 'stale epoch' });
  // A prepare at the current epoch, then a commit and an abort from an older one.
  const fresh = await send(slave, 'POST', '/prepare', JSON.stringify({ transaction_id: 'stale-c', payload: { untouched_key: 1 }, epoch, coordinator: master }));
  t.is(fresh.status, 200, JSON.stringify(fresh.body));
  assertError(t, await send(slave, 'POST', '/commit', JSON.stringify({ transaction_id: 'stale-c', sequence: 99, epoch: epoch - 1, coordinator: master })), 409);
  assertError(t, await send(slave, 'POST', '/abort', JSON.stringify({ transaction_id: 'stale-c', epoch: epoch - 1, coordinator: master })), 409);
  t.is((await request(slave, 'GET', '/transactions/stale-c')).body.state, 'PREPARED');
  t.is((await send(slave, 'POST', '/abort', JSON.stringify({ transaction_id: 'stale-c', epoch, coordinator: master }))).status, 200);
  t.is((await request(slave, 'GET', '/transactions/stale-c')).body.state, 'ABORTED');
  await assertUnharmed(t, before);
});

test.serial('a commit for an id never prepared here with a future epoch is 404 and adopts nothing', async (t) => {
  const before = await snapshot();
  const epoch = (await request(slave, 'GET', '/health')).body.epoch as number;
  assertError(t, await send(slave, 'POST', '/commit', JSON.stringify({ transaction_id: 'never-here', sequence: 1, epoch: epoch + 1000, coordinator: master })), 404);
  t.is((await request(slave, 'GET', '/transactions/never-here')).body.state, 'UNKNOWN');
  t.is((await request(slave, 'GET', '/health')).body.epoch, epoch, 'the future epoch was not adopted');
  await assertUnharmed(t, before);
});

// ---- a cluster with a secret: signatures ---------------------------------------------

test.serial('signatures: missing, malformed, future, wrong path, wrong method and a reused nonce get 401', async (t) => {
  const secret = 'hostile-input-secret-0123456789abcdef';
  const signed_cluster = await ProcessCluster.start({ size: 2, env: { TWOPC_SECRET: secret }, secret });
  try {
    const addr = await signed_cluster.waitForMaster();
    const body = JSON.stringify({ payload: { vault: 'robbed' } });
    const now = Date.now();
    const good = signRequest(secret, { method: 'POST', node: addr, path: '/transactions', body }, now);
    const json = { 'content-type': 'application/json' };
    const cases: readonly (readonly [string, string, string, Record<string, string>])[] = [
      ['nonce header missing', 'POST', '/transactions', { ...json, 'x-twopc-timestamp': good['x-twopc-timestamp'], 'x-twopc-signature': good['x-twopc-signature'] }],
      ['timestamp not a number', 'POST', '/transactions', { ...json, ...good, 'x-twopc-timestamp': 'yesterday' }],
      ['signature not hex', 'POST', '/transactions', { ...json, ...good, 'x-twopc-signature': 'zz'.repeat(32) }],
      ['signature truncated', 'POST', '/transactions', { ...json, ...good, 'x-twopc-signature': good['x-twopc-signature'].slice(0, 32) }],
      ['timestamp 60 s in the future', 'POST', '/transactions', { ...json, ...signRequest(secret, { method: 'POST', node: addr, path: '/transactions', body }, now + 60_000) }],
      ['signed for another path', 'POST', '/transactions', { ...json, ...signRequest(secret, { method: 'POST', node: addr, path: '/prepare', body }, now) }],
      ['signed for another method', 'POST', '/transactions', { ...json, ...signRequest(secret, { method: 'PUT', node: addr, path: '/transactions', body }, now) }],
      ['signed for another query', 'GET', '/kv?limit=5', signRequest(secret, { method: 'GET', node: addr, path: '/kv?limit=1', body: '' }, now)],
    ];
    const before = JSON.stringify(await signed_cluster.dump(addr));
    for (const [name, method, path, headers] of cases) {
      const answer = await send(addr, method, path, method === 'GET' ? undefined : body, headers);
      t.is(answer.status, 401, name);
      t.is(typeof answer.body['error'], 'string', name);
    }
    // A fresh, valid request that reuses an accepted request's nonce is a replay.
    const first_body = JSON.stringify({ payload: { vault: 'locked' } });
    const nonce = 'ab'.repeat(16);
    t.is((await send(addr, 'POST', '/transactions', first_body, { ...json, ...signRequest(secret, { method: 'POST', node: addr, path: '/transactions', body: first_body }, Date.now(), nonce) })).status, 200);
    const reused = await send(addr, 'POST', '/transactions', body, { ...json, ...signRequest(secret, { method: 'POST', node: addr, path: '/transactions', body }, Date.now(), nonce) });
    t.is(reused.status, 401);
    t.is(reused.body['error'], 'replayed request');
    // Signed, but the body is hostile: the signature is no pass for bad input.
    const deep = `{"payload":{"a":${deep_arrays}}}`;
    assertError(t, await send(addr, 'POST', '/transactions', deep, { ...json, ...signRequest(secret, { method: 'POST', node: addr, path: '/transactions', body: deep }, Date.now()) }), 400);
    // A signed request whose body stalls still times out.
    const [host, port] = addr.split(':') as [string, string];
    const head = `POST /transactions HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n${Object.entries(signRequest(secret, { method: 'POST', node: addr, path: '/transactions', body: 'x'.repeat(100) }, Date.now())).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n{"payload":`;
    assertError(t, await rawExchange(addr, head), 408);
    const after = await signed_cluster.dump(addr);
    t.deepEqual(after.map((item) => [item.key, item.value]), [['vault', 'locked']], 'only the one good write landed');
    t.not(JSON.stringify(after), before);
    t.is((await signed_cluster.request(addr, 'GET', '/health')).status, 200);
  } finally {
    await signed_cluster.stop();
  }
});

// ---- where nodes listen ------------------------------------------------------------

test.serial('nodes listen on 127.0.0.1 only', (t) => {
  const listening = readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).map((line) => line.trim().split(/\s+/)).filter((fields) => fields[3] === '0A');
  for (const addr of cluster.addrs) {
    const port = Number(addr.split(':')[1]).toString(16).toUpperCase().padStart(4, '0');
    const local = listening.filter((fields) => fields[1]?.endsWith(`:${port}`)).map((fields) => fields[1]);
    t.deepEqual(local, [`0100007F:${port}`], `${addr} listens on loopback only`);
  }
});

test.serial('after every case the replicas agree and hold only the seed', async (t) => {
  const data = await cluster.checkConsistent();
  t.deepEqual(data.map((item) => [item.key, item.value]), [['other', [1, { deep: true }]], ['seed', 'kept']]);
});
