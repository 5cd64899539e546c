/**
 * The routes' answers as a status and a body, shared by the HTTP routes (routes.ts) and the
 * in-process ones the simulation calls (in-process-routes.ts), so each answer is written once.
 */
import type { TwopcNode } from '../node/node.ts';
import type { DecisionAnswer } from '../node/participant-service.ts';
import type { PeerResponse } from '../node/peer-calls.ts';
import { propagateJoin, propagateLeave } from './membership-gossip.ts';

export function answerHealth(node: TwopcNode): PeerResponse {
  const report = node.cluster.report();
  const serving = report.phase === 'serving';
  return { status: serving ? 200 : 503, body: { status: serving ? 'ok' : report.phase, ...report } };
}

export function answerDecision(answer: DecisionAnswer): PeerResponse {
  return answer.ok ? { status: 200, body: { status: answer.status } } : { status: answer.http_status, body: { error: answer.error } };
}

/**
 * A node that is not serving (catching up, or cut off from the majority) still answers
 * reads, but marks them `stale: true`: they may miss commits made elsewhere. So does a
 * master whose take-over is not complete within a bounded wait (`awaitReadStanding`).
 * Undefined when the node is stopping: the read is refused (503).
 */
export async function readStaleness(node: TwopcNode): Promise<boolean | undefined> {
  const standing = await node.awaitReadStanding();
  return standing === 'stopping' ? undefined : standing === 'stale';
}

export const stopping_error = 'node is stopping; read from another node';

/** `GET /kv/:key` once the node has applied what the reader asked for. */
export async function answerKey(node: TwopcNode, key: string): Promise<PeerResponse> {
  const stale = await readStaleness(node);
  if (stale === undefined) return { status: 503, body: { error: stopping_error } };
  const item = await node.context.kv.get(key);
  if (!item) return { status: 404, body: { error: 'key not found', key, ...(stale && { stale }) } };
  return { status: 200, body: stale ? { ...item, stale } : item };
}

/** `POST /cluster/join` and `/cluster/leave`: change the membership, tell the others, elect again. */
export async function changeMembership(node: TwopcNode, change: 'join' | 'leave', addr: string): Promise<{ readonly members: readonly string[]; readonly added?: boolean; readonly removed?: boolean }> {
  const changed = change === 'join' ? await node.cluster.join(addr) : await node.cluster.leave(addr);
  if (changed) (change === 'join' ? propagateJoin : propagateLeave)(node, addr);
  // Re-run the election without holding the request: a take-over can take a few heartbeats.
  node.cluster.elect().catch((error: unknown) => node.context.log.warn('election-failed', { error: String(error) }));
  return { members: node.context.state.members, [change === 'join' ? 'added' : 'removed']: changed };
}
