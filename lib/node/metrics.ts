/**
 * What a node's services measure as they run: phase latencies in seconds, round answers,
 * missed heartbeats, and every event they log. Production keeps them as Prometheus metrics
 * (lib/boot/metrics.ts).
 */
import type { Logger } from './logger.ts';

export interface NodeMetrics {
  /** Seconds since an arbitrary origin, for timing phases. */
  now_s(): number;
  /** Time one coordinator round and count its answer by outcome (and the aborts that were conflicts). */
  timeRound<T extends { readonly http_status: number; readonly body?: unknown }>(run: () => Promise<T>): Promise<T>;
  /** Phase one as coordinator, in seconds. */
  readonly prepare_seconds: { observe(seconds: number): void };
  /** Phase two of a round with COMMITs as coordinator, in seconds: one sample a round. */
  readonly commit_seconds: { observe(seconds: number): void };
  /** Heartbeat probes a peer failed to answer. */
  readonly heartbeat_misses: { inc(labels: { readonly peer: string }, count: number): void };
  /** Count what a logged event says happened (called for every event, whatever the level). */
  countEvent(level: 'info' | 'warn', event: string, fields: Readonly<Record<string, unknown>> | undefined): void;
}

/** A Logger that also counts every event in `metrics`, then logs it as `inner` would. */
export function countingLogger(inner: Logger, metrics: NodeMetrics): Logger {
  return {
    info(event, fields) {
      metrics.countEvent('info', event, fields);
      inner.info(event, fields);
    },
    warn(event, fields) {
      metrics.countEvent('warn', event, fields);
      inner.warn(event, fields);
    },
  };
}
