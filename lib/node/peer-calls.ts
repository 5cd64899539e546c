/**
 * How a node's services reach the other nodes: one narrow interface, a request and its
 * answer. Production wires lib/transport/http-client.ts (JSON over pooled HTTP); the
 * simulation wires its simulated network.
 */

export interface PeerResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** The peer did not answer in time, refused the connection, or broke it. */
export class PeerUnreachable extends Error {
  override readonly name = 'PeerUnreachable';
  constructor(
    readonly addr: string,
    readonly cause_message: string,
  ) {
    super(`${addr} unreachable: ${cause_message}`);
  }
}

export interface PeerCalls {
  /** Call `method path` on `addr` with a JSON `body`; throws PeerUnreachable when no answer comes within `timeout_ms`. */
  call<T = unknown>(addr: string, method: 'GET' | 'POST', path: string, body: unknown, timeout_ms: number): Promise<PeerResponse<T>>;
}

/** Where transaction ids the node makes up come from (a client that sends none gets one). */
export interface Ids {
  newTransactionId(): string;
}
