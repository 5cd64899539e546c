/**
 * The limits a node runs by, named with their unit last.
 */
export interface NodeLimits {
  /** How often a node probes every peer's `/health`. */
  readonly heartbeat_interval_ms: number;
  /** Consecutive failed probes after which a peer counts as dead. */
  readonly heartbeat_miss_limit: number;
  /** Timeout of one heartbeat probe. */
  readonly heartbeat_timeout_ms: number;
  /** Timeout of one `/prepare` call; a prepare that times out votes ABORT. */
  readonly prepare_timeout_ms: number;
  /** Timeout of one `/commit` or `/abort` call before it is retried in the background. */
  readonly decision_timeout_ms: number;
  /** Pause between re-deliveries of a decision a participant has not acknowledged. */
  readonly decision_retry_interval_ms: number;
  /** How long a PREPARED transaction may wait before its holder asks the cluster for the outcome. */
  readonly in_doubt_after_ms: number;
  /** Timeout of catch-up and termination queries to peers. */
  readonly peer_query_timeout_ms: number;
  /** Largest request body accepted, in bytes. */
  readonly body_limit_bytes: number;
  /** Largest body of a peer's batch message (`/prepare-batch`, `/decide-batch`), in bytes. */
  readonly batch_body_limit_bytes: number;
  /** Most client transactions a master groups into one prepare round. */
  readonly batch_max_transactions: number;
  /** Most payload bytes a master groups into one prepare round (under the batch body limit). */
  readonly batch_max_payload_bytes: number;
  /** Prepare rounds a master runs at once; more submissions wait and join the next round. */
  readonly rounds_in_flight_max: number;
  /**
   * Submissions a master holds waiting for a round; one more is answered 503 (retry shortly)
   * at once. Bounds the memory a flood of clients can take (each waits with its payload).
   */
  readonly submissions_queued_max: number;
  /** Payload bytes (JSON) of the submissions waiting for a round, at most; past it, 503 as above. */
  readonly submissions_queued_max_bytes: number;
  /** How long a request body may take to arrive once its headers have; then 408 and the connection closes. */
  readonly body_read_timeout_ms: number;
  /** Longest a read on a master still taking over waits for the take-over to complete; then it is answered marked stale. */
  readonly read_take_over_wait_ms: number;
  /** Pause between two full audits of the replica (digest recomputed, kv checked against the log); each reads the whole store. */
  readonly integrity_audit_interval_ms: number;
}

export const default_limits: NodeLimits = Object.freeze({
  heartbeat_interval_ms: 200,
  heartbeat_miss_limit: 3,
  heartbeat_timeout_ms: 400,
  prepare_timeout_ms: 2_000,
  decision_timeout_ms: 2_000,
  decision_retry_interval_ms: 250,
  in_doubt_after_ms: 3_000,
  peer_query_timeout_ms: 2_000,
  body_limit_bytes: 64 * 1024,
  batch_body_limit_bytes: 8 * 1024 * 1024,
  batch_max_transactions: 256,
  batch_max_payload_bytes: 4 * 1024 * 1024,
  rounds_in_flight_max: 4,
  submissions_queued_max: 4_096,
  submissions_queued_max_bytes: 16 * 1024 * 1024,
  body_read_timeout_ms: 5_000,
  integrity_audit_interval_ms: 300_000,
  read_take_over_wait_ms: 2_000,
});
