/**
 * `GET /metrics`: the node's prom-client registry (lib/node/metrics.ts) as Prometheus text,
 * every metric named `twopc_…`. Here the node is turned into what its gauges read.
 */
import type { TwopcNode } from '../node/node.ts';
import type { MetricsSource } from '../node/metrics.ts';

export function metricsSourceOf(node: TwopcNode): MetricsSource {
  const { context } = node;
  const { state, sequences, locks } = context;
  return {
    epoch: () => state.epoch,
    is_master: () => state.role === 'MASTER',
    last_sequence: () => sequences.applied_through,
    locked_keys: () => locks.size,
    undelivered_decisions: () => node.coordinator.undelivered_count,
    in_flight: () => node.coordinator.listInFlight().length,
    alive_peers: () => [...state.peers.values()].filter((peer) => peer.alive).length,
    catch_up_lag: () => {
      const seen = [...state.peers.values()].map((peer) => (peer.reachable ? (peer.last_report?.last_sequence ?? 0) : 0));
      return Math.max(0, ...seen.map((sequence) => sequence - sequences.applied_through));
    },
    prepared: async () => {
      const prepared = await context.participant_log.listPrepared();
      const cutoff_ms = context.clock.now_ms() - context.limits.in_doubt_after_ms;
      return { total: prepared.length, in_doubt: prepared.filter((record) => record.updated_at <= cutoff_ms).length };
    },
  };
}

/** The Response for `GET /metrics`. */
export async function answerMetrics(node: TwopcNode): Promise<Response> {
  const { metrics } = node.context;
  return new Response(await metrics.render(), { headers: { 'content-type': metrics.content_type } });
}
