/**
 * Bad input gets a clear 4xx with {"error"}, changes nothing, and the node keeps serving.
 */
import test from 'ava';
import { request as httpRequest } from 'node:http';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { masterRound, request } from '../helpers/http.ts';

let cluster: ProcessCluster;
let master: string;
let slave: string;

test.before(async () => {
  cluster = await ProcessCluster.start({ size: 3 });
  master = await cluster.waitForMaster();
  slave = cluster.addrs.find((addr) => addr !== master)!;
  const seeded = await cluster.submit({ untouched: 'yes' });
  if (seeded.status !== 200) throw new Error('seed commit failed');
});

test.after.always(async (t) => {
  for (const addr of cluster?.addrs ?? []) if (!cluster.isRunning(addr)) t.log(`${addr} died:\n${cluster.outputOf(addr)}`);
  await cluster?.stop();
});

async function post(addr: string, path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const response = await fetch(`http://${addr}${path}`, { method: 'POST', body, headers, signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const malformed: readonly (readonly [string, string, string, number])[] = [
  ['malformed JSON', '/transactions', '{"payload": {"a": 1}', 400],
  ['empty body', '/transactions', '', 400],
  ['a JSON array', '/transactions', '[1,2]', 400],
  ['missing payload', '/transactions', '{}', 400],
  ['payload not an object', '/transactions', '{"payload": "a=1"}', 400],
  ['payload an array', '/transactions', '{"payload": [1]}', 400],
  ['empty payload', '/transactions', '{"payload": {}}', 400],
  ['empty key', '/transactions', '{"payload": {"": 1}}', 400],
  ['key over 256 characters', '/transactions', JSON.stringify({ payload: { ['k'.repeat(257)]: 1 } }), 400],
  ['__proto__ key', '/transactions', '{"payload": {"__proto__": {"polluted": true}}}', 400],
  ['transaction_id of the wrong type', '/transactions', '{"payload": {"a": 1}, "transaction_id": 7}', 400],
  ['transaction_id with a slash', '/transactions', '{"payload": {"a": 1}, "transaction_id": "a/b"}', 400],
  ['prepare without payload', '/prepare', '{"transaction_id": "p1"}', 400],
  ['prepare without id', '/prepare', '{"payload": {"a": 1}}', 400],
  ['prepare with a string epoch', '/prepare', '{"transaction_id": "p1", "payload": {"a": 1}, "epoch": "9"}', 400],
  ['commit without id', '/commit', '{}', 400],
  ['commit with a negative sequence', '/commit', '{"transaction_id": "p1", "sequence": -4}', 400],
  ['abort with id null', '/abort', '{"transaction_id": null}', 400],
  ['join with a bad address', '/cluster/join', '{"addr": "not an address"}', 400],
  ['join with port 0', '/cluster/join', '{"addr": "127.0.0.1:0"}', 400],
];

for (const [name, path, body, status] of malformed) {
  test.serial(`${name} on ${path} gets ${status} with an error`, async (t) => {
    const answer = await post(master, path, body);
    t.is(answer.status, status);
    t.is(typeof answer.body['error'], 'string');
  });
}

test.serial('a body over 64 KiB gets 413, even when it claims to be small', async (t) => {
  const big = JSON.stringify({ payload: { big: 'x'.repeat(70 * 1024) } });
  const answer = await post(master, '/transactions', big);
  t.is(answer.status, 413);
  t.is(typeof answer.body['error'], 'string');
  // Chunked upload with no Content-Length: counted as it arrives. The node answers 413 and
  // closes while the client is still sending, so read the status from the raw response.
  t.is(await postChunked(master, '/transactions', 80, 1024), 413);
});

/** POST `chunks` × `chunk_bytes` with chunked encoding; the status the node answered. */
function postChunked(addr: string, path: string, chunks: number, chunk_bytes: number): Promise<number> {
  const [host, port] = addr.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port: Number(port), path, method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
    req.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    // A reset while still sending is expected (the node closes after its 413); the answer
    // may be parsed a little after it on a busy machine. No answer at all is a failure.
    req.on('error', (error) => setTimeout(() => reject(error), 2_000));
    const send = (i: number): void => {
      if (i === chunks) return void req.end();
      if (req.write('x'.repeat(chunk_bytes))) setImmediate(() => send(i + 1));
      else req.once('drain', () => send(i + 1));
    };
    send(0);
  });
}

test.serial('a body that is not JSON by content type gets 415', async (t) => {
  const answer = await post(master, '/transactions', '{"payload":{"a":1}}', { 'content-type': 'application/x-www-form-urlencoded' });
  t.is(answer.status, 415);
});

test.serial('a slave asked to coordinate answers 421 and names the master', async (t) => {
  const answer = await post(slave, '/transactions', '{"payload": {"a": 1}}');
  t.is(answer.status, 421);
  t.deepEqual(answer.body, { error: 'not master', master });
});

test.serial('unknown transaction ids: a view says UNKNOWN, a commit is refused, an abort is remembered', async (t) => {
  const view = await request(master, 'GET', '/transactions/never-seen');
  t.is(view.status, 200);
  t.is(view.body.state, 'UNKNOWN');
  const round = await masterRound(slave, master);
  const commit = await post(slave, '/commit', JSON.stringify({ transaction_id: 'never-prepared', sequence: 99, ...round }));
  t.is(commit.status, 404);
  t.is(typeof commit.body['error'], 'string');
  t.is((await post(slave, '/abort', JSON.stringify({ transaction_id: 'late-one', ...round }))).status, 200);
  t.is((await post(slave, '/abort', JSON.stringify({ transaction_id: 'late-one', ...round }))).status, 200, 'repeating an abort is harmless');
  const late = await post(slave, '/prepare', JSON.stringify({ transaction_id: 'late-one', payload: { a: 1 }, ...round }));
  t.is(late.status, 500);
  t.like(late.body, { status: 'ABORT' });
  t.is((await request(slave, 'GET', '/transactions/bad%2Fid')).status, 400);
});

test.serial('reads: missing keys 404, bad paging parameters 400, unknown routes 404, wrong methods 405', async (t) => {
  t.is((await request(master, 'GET', '/kv/no-such-key')).status, 404);
  t.is((await request(master, 'GET', '/kv?limit=0')).status, 400);
  t.is((await request(master, 'GET', '/kv?limit=1001')).status, 400);
  t.is((await request(master, 'GET', '/kv?limit=ten')).status, 400);
  t.is((await request(master, 'GET', '/no/such/route')).status, 404);
  t.true([404, 405].includes((await request(master, 'GET', '/prepare')).status));
  t.is((await request(master, 'POST', '/debug/failpoints', { name: 'before-prepare-vote', action: 'abort' })).status, 404, 'no failpoints without --failpoints');
});

test.serial('metrics are Prometheus text named twopc_…, and / is the dashboard page', async (t) => {
  const metrics = await fetch(`http://${master}/metrics`);
  t.is(metrics.status, 200);
  t.regex(metrics.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await metrics.text();
  const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  t.true(samples.length >= 5);
  t.true(samples.every((line) => /^twopc_[a-z_]+(\{[^}]*\})? -?[\d.e+-]+$/.test(line)), text);
  t.true(samples.includes('twopc_is_master 1'));
  t.true(samples.includes('twopc_last_sequence 1'));
  const page = await fetch(`http://${slave}/`);
  t.regex(page.headers.get('content-type') ?? '', /^text\/html/);
  const html = await page.text();
  t.true(html.includes(slave), 'the page names the node it was loaded from');
  t.true(html.includes('/dashboard/data'), 'the page polls the dashboard data');
});

test.serial('after all of it every node still serves and nothing changed', async (t) => {
  // Declared last and every test here is serial: this runs after all the bad requests.
  for (const addr of cluster.addrs) {
    t.is((await request(addr, 'GET', '/health')).status, 200);
    t.like((await request(addr, 'GET', '/kv/untouched')).body, { value: 'yes', sequence: 1 });
    t.is((await request(addr, 'GET', '/kv/a')).status, 404);
  }
  const data = await cluster.checkConsistent();
  t.deepEqual(data.map((item) => item.key), ['untouched']);
});
