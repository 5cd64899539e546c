/** twopc itself as a row of the systems table: a fresh cluster of N node processes. */
import { ProcessCluster } from '../../process-cluster/process-cluster.ts';
import { noteRetry } from '../../util/port-clash.ts';
import { unique_keys } from '../workloads.ts';
import type { SystemSpec } from './system.ts';

export function twopcSystem(nodes: number): SystemSpec {
  return {
    system: 'twopc',
    label: `twopc, ${nodes} node${nodes === 1 ? '' : 's'}`,
    members: nodes,
    workload: unique_keys,
    hot_keys: nodes === 3,
    unavailable: async () => undefined,
    version: () => null,
    start: async (note) => {
      const { cluster, master } = await ProcessCluster.launch(nodes, { label: `bench-${nodes}-nodes` }, noteRetry(note));
      return {
        addr: master,
        members: cluster.addrs,
        data_dir: cluster.data_dir,
        pids: () => cluster.addrs.flatMap((addr) => cluster.pidOf(addr) ?? []),
        stop: () => cluster.stop(),
      };
    },
  };
}
