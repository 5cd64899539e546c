import * as v from 'valibot';
import { answerReason, getJson } from './http.ts';

/** `GET /role`, as much of it as the CLI relies on; unknown fields are kept and ignored. */
const RoleAnswerSchema = v.looseObject({
  addr: v.string(),
  role: v.string(),
  master: v.nullish(v.string()),
  epoch: v.nullish(v.number()),
  last_sequence: v.nullish(v.number()),
  state: v.nullish(v.string()),
  nodes: v.nullish(
    v.array(v.looseObject({ addr: v.string(), alive: v.nullish(v.boolean()), role: v.nullish(v.string()) })),
  ),
});
export type RoleAnswer = v.InferOutput<typeof RoleAnswerSchema>;

/** What asking one node `/role` came to. */
export type RoleProbe =
  | { readonly kind: 'answered'; readonly addr: string; readonly role: RoleAnswer }
  | { readonly kind: 'down'; readonly addr: string; readonly reason: string };

/** Asks one node for its role; any failure (unreachable, timeout, bad answer) is `down`. */
export async function probeRole(addr: string, timeout_ms: number): Promise<RoleProbe> {
  const result = await getJson(addr, '/role', timeout_ms);
  if (result.kind !== 'answer') return { kind: 'down', addr, reason: result.reason };
  if (result.status === 401) return { kind: 'down', addr, reason: `refused: ${answerReason(result.status, result.body)} (the cluster has a secret: pass --secret-file PATH or set TWOPC_SECRET)` };
  if (result.status !== 200) return { kind: 'down', addr, reason: `/role answered HTTP ${result.status}` };
  const parsed = v.safeParse(RoleAnswerSchema, result.body);
  if (!parsed.success) return { kind: 'down', addr, reason: 'malformed /role answer' };
  return { kind: 'answered', addr, role: parsed.output };
}

/** The master a node reports: itself when it is MASTER, else its `master` field (if any). */
export function reportedMaster(role: RoleAnswer): string | undefined {
  if (role.role === 'MASTER') return role.addr;
  return role.master ?? undefined;
}

/** A node is serving unless it says it is starting or catching up. */
export function isServing(role: RoleAnswer): boolean {
  return role.state === undefined || role.state === null || role.state === 'serving';
}
