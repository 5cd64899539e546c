/**
 * Finding the master: ask every node `GET /role` at once and take the master they name.
 * A node that calls itself MASTER settles it at once; otherwise the first node in list order
 * that names one. One round, no retries; each call is bounded by `timeout_ms`.
 */
import type { Transport } from './http.ts';
import { probeRole, reachesMajority, reportedMaster, type RoleAnswer } from './role.ts';

export type MasterSearch =
  | { readonly kind: 'found'; readonly master: string }
  /** Some nodes answered, none names a master (an election under way, or no majority). */
  | { readonly kind: 'no-master'; readonly answered: readonly RoleAnswer[]; readonly total: number }
  /** No node answered at all; one reason per node. */
  | { readonly kind: 'unreachable'; readonly reasons: readonly string[] };

export function findMaster(transport: Transport, nodes: readonly string[], timeout_ms: number): Promise<MasterSearch> {
  return new Promise((resolve) => {
    const probes = nodes.map((addr) => probeRole(transport, addr, timeout_ms));
    for (const probe of probes) {
      void probe.then((answer) => {
        if (answer.kind === 'answered' && answer.role.role === 'MASTER') resolve({ kind: 'found', master: answer.addr });
      });
    }
    void Promise.all(probes).then((answers) => {
      const answered = answers.flatMap((answer) => (answer.kind === 'answered' ? [answer.role] : []));
      const named = answered.map(reportedMaster).find((master) => master !== undefined);
      if (named !== undefined) return resolve({ kind: 'found', master: named });
      if (answered.length > 0) return resolve({ kind: 'no-master', answered, total: nodes.length });
      resolve({ kind: 'unreachable', reasons: answers.map((answer) => `${answer.addr}: ${answer.kind === 'down' ? answer.reason : ''}`) });
    });
  });
}

/** Of the nodes that answered without naming a master, the first cut off from the majority. */
export function nodeWithoutMajority(answered: readonly RoleAnswer[]): RoleAnswer | undefined {
  return answered.find((role) => !reachesMajority(role));
}
