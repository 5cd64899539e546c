/**
 * One node's row in `twopc status` and `status --watch`: what `/role` and `/health` say, and
 * the table both print.
 */
import { getJson } from './http.ts';
import { isServing, probeRole } from './role.ts';
import { cell, formatTable } from '../util/text-table.ts';

/** Timeout of each `/role` and `/health` call made by `status`. */
export const status_timeout_ms = 1_000;

/** One row of `twopc status`. `alive` means reachable and healthy (serving). */
export interface NodeStatus {
  readonly addr: string;
  readonly reachable: boolean;
  readonly alive: boolean;
  readonly role: string | null;
  readonly master: string | null;
  readonly epoch: number | null;
  readonly last_sequence: number | null;
  readonly state: string | null;
  readonly error?: string;
}

/** Asks one node `/role` and `/health` at once. */
export async function readNodeStatus(addr: string, timeout_ms: number): Promise<NodeStatus> {
  const [probe, health] = await Promise.all([probeRole(addr, timeout_ms), getJson(addr, '/health', timeout_ms)]);
  if (probe.kind === 'down') {
    return { addr, reachable: false, alive: false, role: null, master: null, epoch: null, last_sequence: null, state: null, error: probe.reason };
  }
  const role = probe.role;
  const healthy = health.kind === 'answer' && health.status === 200;
  return {
    addr,
    reachable: true,
    alive: healthy && isServing(role),
    role: role.role,
    master: role.master ?? null,
    epoch: role.epoch ?? null,
    last_sequence: role.last_sequence ?? null,
    state: role.state ?? (healthy ? 'serving' : null),
  };
}

export function formatStatusTable(statuses: readonly NodeStatus[]): string {
  const rows = statuses.map((status) => [
    status.addr,
    status.reachable ? cell(status.role) : 'down',
    cell(status.alive),
    cell(status.epoch),
    cell(status.last_sequence),
    status.reachable ? cell(status.state) : cell(status.error),
  ]);
  return formatTable(['ADDRESS', 'ROLE', 'ALIVE', 'EPOCH', 'SEQUENCE', 'STATE'], rows);
}
