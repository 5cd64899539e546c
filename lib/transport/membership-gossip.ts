import type { TwopcNode } from '../node/node.ts';

/**
 * Tell everyone about a membership change this node just learned. A node forwards only
 * changes that were new to it, so the gossip stops once everyone knows.
 */
export function propagateJoin(node: TwopcNode, joined: string): void {
  const { context } = node;
  const others = context.state.members.filter((addr) => addr !== context.addr && addr !== joined);
  for (const addr of others) send(node, addr, '/cluster/join', joined);
  // The newcomer learns the whole membership, this node included.
  for (const member of context.state.members) if (member !== joined) send(node, joined, '/cluster/join', member);
}

export function propagateLeave(node: TwopcNode, left: string): void {
  const { context } = node;
  for (const addr of context.state.members) if (addr !== context.addr) send(node, addr, '/cluster/leave', left);
}

function send(node: TwopcNode, target: string, path: string, addr: string): void {
  const { context } = node;
  void context.client
    .call(target, 'POST', path, { addr }, context.limits.peer_query_timeout_ms)
    .catch((error: unknown) => context.log.warn('membership-gossip-failed', { target, path, member: addr, error: String(error) }));
}
