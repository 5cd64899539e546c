/**
 * `GET /role`: who a node is, whom it follows, and which members it counts alive. The
 * client finds the master with it and tells "no master elected yet" from "no majority".
 */
import * as v from 'valibot';
import { answerReason, secret_hint } from './answer.ts';
import type { Transport } from './http.ts';

/** As much of `/role` as the client relies on; unknown fields are kept and ignored. */
const RoleAnswerSchema = v.looseObject({
  addr: v.string(),
  role: v.string(),
  master: v.nullish(v.string()),
  epoch: v.nullish(v.number()),
  last_sequence: v.nullish(v.number()),
  state: v.nullish(v.string()),
  accepting_writes: v.nullish(v.boolean()),
  nodes: v.nullish(
    v.array(v.looseObject({ addr: v.string(), alive: v.nullish(v.boolean()), role: v.nullish(v.string()) })),
  ),
});
export type RoleAnswer = v.InferOutput<typeof RoleAnswerSchema>;

/** What asking one node `/role` came to. */
export type RoleProbe =
  | { readonly kind: 'answered'; readonly addr: string; readonly role: RoleAnswer }
  | { readonly kind: 'down'; readonly addr: string; readonly reason: string };

/** Asks one node for its role; any failure (unreachable, timeout, not a twopc answer) is `down`. */
export async function probeRole(transport: Transport, addr: string, timeout_ms: number): Promise<RoleProbe> {
  const result = await transport.request(addr, '/role', { timeout_ms });
  if (result.kind !== 'answer') return { kind: 'down', addr, reason: result.reason };
  if (result.status === 401) return { kind: 'down', addr, reason: `refused: ${answerReason(result.status, result.body)} (${secret_hint})` };
  if (result.status !== 200) return { kind: 'down', addr, reason: `/role answered HTTP ${result.status}` };
  const parsed = v.safeParse(RoleAnswerSchema, result.body);
  if (!parsed.success) return { kind: 'down', addr, reason: 'not a twopc node (malformed /role answer)' };
  return { kind: 'answered', addr, role: parsed.output };
}

/** The master a node reports: itself when it is MASTER, else its `master` field (if any). */
export function reportedMaster(role: RoleAnswer): string | undefined {
  if (role.role === 'MASTER') return role.addr;
  return role.master ?? undefined;
}

/** A node is serving unless it says it is starting, catching up or cut off. */
export function isServing(role: RoleAnswer): boolean {
  return role.state === undefined || role.state === null || role.state === 'serving';
}

/**
 * Members this node counts alive (itself included) and the membership's size; a node reaches
 * a majority when alive > members / 2. Undefined when the answer has no member list.
 */
export function aliveCount(role: RoleAnswer): { readonly alive: number; readonly members: number } | undefined {
  if (role.nodes === undefined || role.nodes === null || role.nodes.length === 0) return undefined;
  return { alive: role.nodes.filter((node) => node.alive === true || node.addr === role.addr).length, members: role.nodes.length };
}

/** False only when the node's own member list shows it cut off from the majority. */
export function reachesMajority(role: RoleAnswer): boolean {
  const count = aliveCount(role);
  return count === undefined || count.alive * 2 > count.members;
}
