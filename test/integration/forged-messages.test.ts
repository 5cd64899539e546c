/**
 * Forged coordinator messages and epoch claims against three real node processes (no
 * secret, loopback): a participant takes /prepare, /commit, /abort and their batch forms only
 * from the master of the current epoch, with the sequence; a claim far above every epoch a
 * node knows is refused; no single request takes the cluster's master away for good.
 * (With a secret, these routes also need the cluster secret: credentials.test.ts.)
 */
import test, { type ExecutionContext } from 'ava';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { request, waitFor } from '../helpers/http.ts';
import { epoch_claim_lead_max, epoch_max } from '../../lib/protocol/messages.ts';

let cluster: ProcessCluster;
let master: string;
let slave: string;
let other: string;

test.before(async () => {
  cluster = await ProcessCluster.start({ size: 3 });
  master = await cluster.waitForMaster();
  [slave, other] = cluster.addrs.filter((addr) => addr !== master) as [string, string];
  if ((await cluster.submit({ seed: 'kept' })).status !== 200) throw new Error('seed commit failed');
  await cluster.checkConsistent();
});

test.after.always(async (t) => {
  for (const addr of cluster?.addrs ?? []) if (!cluster.isRunning(addr)) t.log(`${addr} died:\n${cluster.outputOf(addr)}`);
  await cluster?.stop();
});

async function epochOf(addr: string): Promise<number> {
  return (await request(addr, 'GET', '/health')).body.epoch as number;
}

async function stateOf(addr: string, id: string): Promise<string> {
  return (await request(addr, 'GET', `/transactions/${id}`)).body.state as string;
}

async function assertNothingApplied(t: ExecutionContext): Promise<void> {
  const data = await cluster.checkConsistent();
  t.deepEqual(
    data.map((item) => [item.key, item.value]),
    [['seed', 'kept']],
  );
  const healths = await Promise.all(cluster.addrs.map((addr) => request(addr, 'GET', '/health')));
  t.is(new Set(healths.map((health) => health.body.last_sequence)).size, 1, 'every replica at the same last sequence');
}

test.serial('the seed’s manual forms are gone: a prepare without epoch and coordinator, a commit without a sequence get 400', async (t) => {
  const prepare = await request(slave, 'POST', '/prepare', { transaction_id: 'forged-1', payload: { seed: 'forged' } });
  t.is(prepare.status, 400, JSON.stringify(prepare.body));
  t.regex(prepare.body.error, /epoch|coordinator/);
  const epoch = await epochOf(slave);
  const commit = await request(slave, 'POST', '/commit', { transaction_id: 'forged-1', epoch, coordinator: master });
  t.is(commit.status, 400, JSON.stringify(commit.body));
  t.regex(commit.body.error, /sequence/);
  const batch = await request(slave, 'POST', '/prepare-batch', { transactions: [{ transaction_id: 'forged-2', payload: { seed: 'forged' } }] });
  t.is(batch.status, 400, JSON.stringify(batch.body));
  const decide = await request(slave, 'POST', '/decide-batch', { epoch, coordinator: master, commits: [{ transaction_id: 'forged-2' }], aborts: [] });
  t.is(decide.status, 400, JSON.stringify(decide.body));
  t.is(await stateOf(slave, 'forged-1'), 'UNKNOWN');
  t.is(await stateOf(slave, 'forged-2'), 'UNKNOWN');
  await assertNothingApplied(t);
});

test.serial('a prepare, a batch and a decision naming a coordinator that is not the master of the epoch are refused', async (t) => {
  const epoch = await epochOf(slave);
  for (const coordinator of [slave, other]) {
    const prepare = await request(slave, 'POST', '/prepare', { transaction_id: 'forged-3', payload: { seed: 'forged' }, epoch, coordinator });
    t.is(prepare.status, 500, JSON.stringify(prepare.body));
    t.like(prepare.body, { status: 'ABORT', reason: 'not the master' });
    const batch = await request(slave, 'POST', '/prepare-batch', { epoch, coordinator, transactions: [{ transaction_id: 'forged-4', payload: { seed: 'forged' } }] });
    t.is(batch.status, 200);
    t.like(batch.body.votes[0], { status: 'ABORT', reason: 'not the master' });
  }
  t.is(await stateOf(slave, 'forged-3'), 'UNKNOWN', 'the refused prepare left nothing, not even a remembered abort');
  // A real prepare from the master's round, then decisions from a node that is not the master.
  const prepared = await request(slave, 'POST', '/prepare', { transaction_id: 'forged-5', payload: { elsewhere: 1 }, epoch, coordinator: master });
  t.is(prepared.status, 200, JSON.stringify(prepared.body));
  const commit = await request(slave, 'POST', '/commit', { transaction_id: 'forged-5', sequence: 2, epoch, coordinator: other });
  t.is(commit.status, 409, JSON.stringify(commit.body));
  const decide = await request(slave, 'POST', '/decide-batch', { epoch, coordinator: other, commits: [{ transaction_id: 'forged-5', sequence: 2 }], aborts: [] });
  t.is(decide.status, 200);
  t.false(decide.body.commits[0].ok);
  t.regex(decide.body.commits[0].error ?? JSON.stringify(decide.body), /not the master/);
  const abort = await request(slave, 'POST', '/abort', { transaction_id: 'forged-5', epoch, coordinator: other });
  t.is(abort.status, 409, JSON.stringify(abort.body));
  t.is(await stateOf(slave, 'forged-5'), 'PREPARED');
  const ahead = await request(slave, 'POST', '/prepare', { transaction_id: 'forged-6', payload: { seed: 'forged' }, epoch: epoch + epoch_claim_lead_max + 1, coordinator: master });
  t.like(ahead.body, { status: 'ABORT', reason: 'epoch too far ahead' });
  t.is(await epochOf(slave), epoch, 'the far epoch was not adopted');
  // The master's abort releases it; nothing was applied anywhere.
  t.is((await request(slave, 'POST', '/abort', { transaction_id: 'forged-5', epoch, coordinator: master })).status, 200);
  t.is(await stateOf(slave, 'forged-5'), 'ABORTED');
  await assertNothingApplied(t);
  t.is((await cluster.submit({ after: 'forgeries' })).status, 200, 'the cluster still commits');
});

test.serial('epoch claims: beyond safe integers 400, far above what a node knows 409; one granted claim does not take the master away for good, across restarts', async (t) => {
  for (const addr of cluster.addrs) {
    const overflow = await request(addr, 'POST', '/cluster/claim', { epoch: 2 ** 53 - 1, candidate: other });
    t.is(overflow.status, 400, `${addr}: ${JSON.stringify(overflow.body)}`);
    const at_max = await request(addr, 'POST', '/cluster/claim', { epoch: epoch_max, candidate: other });
    t.is(at_max.status, 409, `${addr}: ${JSON.stringify(at_max.body)}`);
    t.like(at_max.body, { granted: false, reason: 'epoch too far ahead' });
  }
  // The most one claim can do: take an epoch within the bound for a node that is not the master.
  const epoch = Math.max(...(await Promise.all(cluster.addrs.map(epochOf))));
  for (const addr of cluster.addrs) {
    const near = await request(addr, 'POST', '/cluster/claim', { epoch: epoch + epoch_claim_lead_max, candidate: other });
    t.is(near.status, 200, `${addr}: ${JSON.stringify(near.body)}`);
  }
  await waitFor('a commit after the granted claim', async () => (await cluster.submit({ after: 'claim' })).status === 200, 30_000, 200);
  for (const addr of cluster.addrs) t.true((await epochOf(addr)) > epoch + epoch_claim_lead_max, `${addr} moved past the granted epoch`);
  for (const addr of cluster.addrs) await cluster.kill(addr);
  for (const addr of cluster.addrs) cluster.spawnNode(addr);
  master = await cluster.waitForMaster();
  await waitFor('a commit after restarting every node', async () => (await cluster.submit({ after: 'restart' })).status === 200, 30_000, 200);
  for (const addr of cluster.addrs) t.true(Number.isSafeInteger((await epochOf(addr)) + 1));
  await cluster.checkConsistent();
});
