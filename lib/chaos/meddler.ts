/**
 * The duplicate-reorder fault: replays, contradicts and reorders decisions for transactions
 * whose outcome the clients already know. Duplicate /commit and /abort, /abort for committed
 * ids, /commit for aborted ids, decisions from a stale epoch, and a late /prepare for aborted
 * ids. None of it may change any outcome; the checker says whether one did.
 */
import { sleep } from './node-http.ts';
import type { FaultContext } from './faults.ts';
import type { Attempt } from './workload.ts';

const message_pause_max_ms = 25;

interface Recorded {
  readonly epoch?: number;
  readonly sequence?: number;
  readonly coordinator?: string;
}

async function recordedView(context: FaultContext, id: string): Promise<Recorded | undefined> {
  const addr = context.random.pick(context.cluster.running());
  const answer = await context.cluster.http.get(addr, `/transactions/${encodeURIComponent(id)}`, 1_000);
  if (answer.kind !== 'answer' || answer.status !== 200) return undefined;
  const view = answer.body as Recorded & { state?: string };
  return {
    ...(typeof view.epoch === 'number' && { epoch: view.epoch }),
    ...(typeof view.sequence === 'number' && { sequence: view.sequence }),
    ...(typeof view.coordinator === 'string' && { coordinator: view.coordinator }),
  };
}

/** Send one meddling message about `attempt` to a random running node. */
async function meddleOnce(context: FaultContext, attempt: Attempt): Promise<string | undefined> {
  const view = await recordedView(context, attempt.transaction_id);
  if (view === undefined) return undefined;
  const target = context.random.pick(context.cluster.running());
  const id = attempt.transaction_id;
  const decision = { transaction_id: id, ...(view.epoch !== undefined && { epoch: view.epoch }), ...(view.coordinator !== undefined && { coordinator: view.coordinator }) };
  const stale = { ...decision, epoch: Math.max(0, (view.epoch ?? 1) - 1) };
  const choice = context.random.int(0, 3);
  const post = (path: string, body: unknown) => context.cluster.http.post(target, path, body, 1_000);
  if (attempt.outcome === 'committed') {
    const commit = { ...decision, ...(view.sequence !== undefined && { sequence: view.sequence }) };
    if (choice === 0) await post('/commit', commit);
    else if (choice === 1) await post('/abort', decision);
    else if (choice === 2) await post('/abort', stale);
    else await post('/commit', { ...commit, ...stale });
    return `${['duplicate commit', 'abort', 'stale abort', 'stale commit'][choice]} for committed ${id} to ${target}`;
  }
  if (choice === 0) await post('/abort', decision);
  else if (choice === 1) await post('/commit', decision);
  else if (choice === 2) await post('/commit', stale);
  else await post('/prepare', { ...decision, payload: attempt.payload });
  return `${['duplicate abort', 'commit', 'stale commit', 'late prepare'][choice]} for aborted ${id} to ${target}`;
}

/** Meddle until `until_ms` (epoch ms), a message every few milliseconds. */
export async function meddle(context: FaultContext, until_ms: number): Promise<number> {
  let sent = 0;
  while (Date.now() < until_ms) {
    const decided = context.workload.decided();
    if (decided.length > 0 && context.cluster.running().length > 0) {
      const what = await meddleOnce(context, context.random.pick(decided));
      if (what !== undefined) sent += 1;
    }
    await sleep(context.random.int(0, message_pause_max_ms));
  }
  return sent;
}
