/**
 * Every node's status at once: `/role` and `/health` of each. `alive` means reachable and
 * serving; `majority` is false when the node's own member list shows it cut off from the
 * majority (then the cluster, as that node sees it, cannot take writes).
 */
import type { Transport } from './http.ts';
import { aliveCount, isServing, probeRole, reachesMajority } from './role.ts';

/** Timeout of each `/role` and `/health` call. */
export const status_timeout_ms = 1_000;

export interface NodeStatus {
  readonly addr: string;
  readonly reachable: boolean;
  readonly alive: boolean;
  readonly role: string | null;
  readonly master: string | null;
  readonly epoch: number | null;
  readonly last_sequence: number | null;
  readonly state: string | null;
  /** Members this node counts alive, itself included, and the membership's size. */
  readonly members_alive: number | null;
  readonly members: number | null;
  readonly majority: boolean | null;
  readonly error?: string;
}

export async function readNodeStatus(transport: Transport, addr: string, timeout_ms: number = status_timeout_ms): Promise<NodeStatus> {
  const [probe, health] = await Promise.all([probeRole(transport, addr, timeout_ms), transport.request(addr, '/health', { timeout_ms })]);
  if (probe.kind === 'down') {
    return { addr, reachable: false, alive: false, role: null, master: null, epoch: null, last_sequence: null, state: null, members_alive: null, members: null, majority: null, error: probe.reason };
  }
  const role = probe.role;
  const healthy = health.kind === 'answer' && health.status === 200;
  const count = aliveCount(role);
  return {
    addr,
    reachable: true,
    alive: healthy && isServing(role),
    role: role.role,
    master: role.master ?? null,
    epoch: role.epoch ?? null,
    last_sequence: role.last_sequence ?? null,
    state: role.state ?? (healthy ? 'serving' : null),
    members_alive: count?.alive ?? null,
    members: count?.members ?? null,
    majority: count === undefined ? null : reachesMajority(role),
  };
}

/** Every node of `nodes`, asked at once. */
export function readClusterStatus(transport: Transport, nodes: readonly string[], timeout_ms: number = status_timeout_ms): Promise<readonly NodeStatus[]> {
  return Promise.all(nodes.map((addr) => readNodeStatus(transport, addr, timeout_ms)));
}
