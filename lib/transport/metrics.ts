/**
 * `GET /metrics`: the node's Prometheus registry (lib/boot/metrics.ts) as text, every metric
 * named `twopc_…`; and the timeline the dashboard plots.
 */

/** How often the dashboard's timeline is sampled. */
export const timeline_interval_ms = 1_000;

/** One point of the timeline: cumulative counts at `t_ms` (the page plots their differences). */
export interface TimelineSample {
  readonly t_ms: number;
  readonly last_sequence: number;
  /** Rounds this node coordinated, by answer, and their summed duration. */
  readonly committed: number;
  readonly aborted: number;
  readonly in_doubt: number;
  /** Of the aborted, those a participant refused with reason `conflict` (a key locked by another transaction). */
  readonly conflicts: number;
  readonly round_seconds_sum: number;
}

/** What the routes read of a node's metrics. */
export interface MetricsExposition {
  /** The Prometheus text exposition. */
  render(): Promise<string>;
  readonly content_type: string;
  /** The recent timeline, oldest first, one sample every `timeline_interval_ms`. */
  listSamples(): readonly TimelineSample[];
}

/** The Response for `GET /metrics`. */
export async function answerMetrics(metrics: MetricsExposition): Promise<Response> {
  return new Response(await metrics.render(), { headers: { 'content-type': metrics.content_type } });
}
