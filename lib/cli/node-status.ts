/**
 * One node's row in `twopc status` and `status --watch`: what the client library reads from
 * `/role` and `/health` (lib/client/status.ts), and the table both print.
 */
import { readClusterStatus, status_timeout_ms, type NodeStatus } from '../client/status.ts';
import { cell, formatTable } from '../util/text-table.ts';

export { readClusterStatus, status_timeout_ms, type NodeStatus };

export function formatStatusTable(statuses: readonly NodeStatus[]): string {
  const rows = statuses.map((status) => [
    status.addr,
    status.reachable ? cell(status.role) : 'down',
    cell(status.alive),
    cell(status.epoch),
    cell(status.last_sequence),
    status.reachable ? describeState(status) : cell(status.error),
  ]);
  return formatTable(['ADDRESS', 'ROLE', 'ALIVE', 'EPOCH', 'SEQUENCE', 'STATE'], rows);
}

/** The node's phase, or "no majority (k of n alive)" when it is cut off from the majority. */
function describeState(status: NodeStatus): string {
  if (status.majority === false) return `no majority (${status.members_alive ?? '?'} of ${status.members ?? '?'} alive): refuses writes`;
  return cell(status.state);
}
