import type { TwopcNode } from '../node/node.ts';

/** `GET /metrics`: Prometheus text exposition, every metric named `twopc_…`. */
export function renderMetrics(node: TwopcNode): string {
  const { state, sequences, locks } = node.context;
  const lines = [
    '# HELP twopc_epoch Highest epoch this node has seen.',
    '# TYPE twopc_epoch gauge',
    `twopc_epoch ${state.epoch}`,
    '# HELP twopc_is_master 1 while this node acts as master.',
    '# TYPE twopc_is_master gauge',
    `twopc_is_master ${state.role === 'MASTER' ? 1 : 0}`,
    '# HELP twopc_last_sequence Every committed sequence up to this one is applied here.',
    '# TYPE twopc_last_sequence gauge',
    `twopc_last_sequence ${sequences.applied_through}`,
    '# HELP twopc_locked_keys Keys locked by prepared transactions.',
    '# TYPE twopc_locked_keys gauge',
    `twopc_locked_keys ${locks.size}`,
    '# HELP twopc_undelivered_decisions Decisions some participant has not acknowledged yet.',
    '# TYPE twopc_undelivered_decisions gauge',
    `twopc_undelivered_decisions ${node.coordinator.undelivered_count}`,
    '# HELP twopc_alive_peers Peers this node currently counts alive.',
    '# TYPE twopc_alive_peers gauge',
    `twopc_alive_peers ${[...state.peers.values()].filter((peer) => peer.alive).length}`,
  ];
  return `${lines.join('\n')}\n`;
}
