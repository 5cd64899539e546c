import { probeRole, reportedMaster } from './role.ts';

/** What one round of asking the nodes for the master came to. */
export type MasterSearch =
  | { readonly kind: 'found'; readonly master: string }
  /** Some nodes answered, none knows a master yet (election under way, no majority). */
  | { readonly kind: 'no-master'; readonly answered: readonly string[] }
  /** No node answered at all. */
  | { readonly kind: 'unreachable'; readonly reasons: readonly string[] };

/**
 * Asks `GET /role` on the nodes in order and returns the first master one of them names.
 * One round, no retries; each call is bounded by `timeout_ms`.
 */
export async function findMaster(nodes: readonly string[], timeout_ms: number): Promise<MasterSearch> {
  const answered: string[] = [];
  const reasons: string[] = [];
  for (const addr of nodes) {
    const probe = await probeRole(addr, timeout_ms);
    if (probe.kind === 'down') {
      reasons.push(`${addr}: ${probe.reason}`);
      continue;
    }
    const master = reportedMaster(probe.role);
    if (master !== undefined) return { kind: 'found', master };
    answered.push(addr);
  }
  if (answered.length > 0) return { kind: 'no-master', answered };
  return { kind: 'unreachable', reasons };
}
