/**
 * A cluster with a secret: peers sign to each other, the CLI signs with the secret, and any
 * unsigned, badly signed or replayed request gets 401 and changes nothing.
 */
import test from 'ava';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { runTwopc } from '../helpers/cli-process.ts';
import { signRequest } from '../../lib/security/signature.ts';

const secret = 'correct-horse-battery-staple-0123456789';
let cluster: ProcessCluster;

test.before(async () => {
  cluster = await ProcessCluster.start({ size: 3, env: { TWOPC_SECRET: secret }, secret });
});

test.after.always(async () => {
  await cluster?.stop();
});

async function send(addr: string, method: 'GET' | 'POST', path: string, body: string | undefined, headers: Record<string, string>) {
  const response = await fetch(`http://${addr}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body !== undefined && { body }), signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function signed(node: string, method: string, path: string, body = '') {
  return signRequest(secret, { method, path, node, body }, Date.now());
}

test.serial('peers sign to each other: a transaction commits on every node', async (t) => {
  const answer = await cluster.submit({ vault: 'open' });
  t.is(answer.status, 200);
  t.is(answer.body.participants.length, 3);
});

test.serial('unsigned, badly signed, stale and replayed requests get 401 and change nothing', async (t) => {
  const master = await cluster.waitForMaster();
  const body = JSON.stringify({ payload: { vault: 'robbed' } });
  const unsigned = await send(master, 'POST', '/transactions', body, {});
  t.is(unsigned.status, 401);
  t.is(unsigned.body['error'], 'request is not signed');
  t.is((await send(master, 'GET', '/kv/vault', undefined, {})).status, 401, 'reads need a signature too');
  const wrong = signRequest('w'.repeat(40), { method: 'POST', path: '/transactions', node: master, body }, Date.now());
  t.is((await send(master, 'POST', '/transactions', body, wrong)).status, 401);
  const other_body = signed(master, 'POST', '/transactions', JSON.stringify({ payload: { vault: 'closed' } }));
  t.is((await send(master, 'POST', '/transactions', body, other_body)).status, 401, 'a signature covers the body');
  const stale = signRequest(secret, { method: 'POST', path: '/transactions', node: master, body }, Date.now() - 60_000);
  t.is((await send(master, 'POST', '/transactions', body, stale)).status, 401);
  const prepare = JSON.stringify({ transaction_id: 'forged-1', payload: { vault: 'robbed' } });
  t.is((await send(cluster.addrs[2]!, 'POST', '/prepare', prepare, {})).status, 401);

  const good_body = JSON.stringify({ payload: { vault: 'locked' } });
  const headers = signed(master, 'POST', '/transactions', good_body);
  t.is((await send(master, 'POST', '/transactions', good_body, headers)).status, 200);
  const replay = await send(master, 'POST', '/transactions', good_body, headers);
  t.is(replay.status, 401);
  t.is(replay.body['error'], 'replayed request');

  for (const addr of cluster.addrs) {
    const read = await send(addr, 'GET', '/kv/vault', undefined, signed(addr, 'GET', '/kv/vault'));
    t.like(read.body, { value: 'locked' }, addr);
    const forged = await send(addr, 'GET', '/transactions/forged-1', undefined, signed(addr, 'GET', '/transactions/forged-1'));
    t.is(forged.body['state'], 'UNKNOWN', addr);
  }
});

test.serial('the CLI signs with the secret, and without it gets a clear refusal', async (t) => {
  const nodes = cluster.addrs.join(',');
  const withSecret = await runTwopc(['commit', '--nodes', nodes, '--payload', '{"by":"cli"}'], { env: { TWOPC_SECRET: secret } });
  t.is(withSecret.code, 0, withSecret.stderr);
  const status = await runTwopc(['status', '--nodes', nodes, '--json'], { env: { TWOPC_SECRET: secret } });
  t.is(status.code, 0, status.stderr);
  t.true((JSON.parse(status.stdout) as { nodes: { alive: boolean }[] }).nodes.every((node) => node.alive));
  // runTwopc passes on no TWOPC_* setting of ours: this run has no secret.
  const without = await runTwopc(['commit', '--nodes', nodes, '--timeout', '3000', '--payload', '{"by":"stranger"}']);
  t.not(without.code, 0);
  t.regex(without.stderr, /^twopc: .*(signed|401|unauthori)/i);
  t.is(without.stderr.trim().split('\n').length, 1);
});
