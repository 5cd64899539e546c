import { Pool } from './undici-pool.ts';
import { peer_header, signRequest } from '../security/signature.ts';
import type { Clock } from '../time/clock.ts';
import { PeerUnreachable, type PeerCalls, type PeerResponse } from '../node/peer-calls.ts';

/** Connections kept open to one peer. */
export const peer_connections = 16;
/** How long an idle keep-alive connection to a peer stays open. */
export const peer_keep_alive_ms = 10_000;

export { PeerUnreachable, type PeerResponse } from '../node/peer-calls.ts';

/**
 * JSON over pooled keep-alive HTTP to the other nodes (the production PeerCalls). Every call
 * has a timeout: nothing waits forever.
 */
export class PeerClient implements PeerCalls {
  private readonly pools = new Map<string, Pool>();
  private readonly texts = new WeakMap<object, string>();
  private closed = false;

  /** With a cluster secret every call is signed (lib/security/signature.ts). */
  constructor(
    private readonly clock: Clock,
    private readonly secret?: string,
  ) {}

  async call<T = unknown>(addr: string, method: 'GET' | 'POST', path: string, body: unknown, timeout_ms: number): Promise<PeerResponse<T>> {
    if (this.closed) throw new PeerUnreachable(addr, 'client closed');
    const pool = this.poolFor(addr);
    const text = body === undefined ? '' : this.textOf(body);
    const headers: Record<string, string> = body === undefined ? { [peer_header]: '1' } : { 'content-type': 'application/json', [peer_header]: '1' };
    if (this.secret !== undefined) Object.assign(headers, signRequest(this.secret, { method, path, node: addr, body: text }, this.clock.now_ms()));
    try {
      const response = await pool.request({
        path,
        method,
        headers,
        body: body === undefined ? null : text,
        signal: AbortSignal.timeout(timeout_ms),
        headersTimeout: timeout_ms,
        bodyTimeout: timeout_ms,
      });
      const answer = await response.body.text();
      return { status: response.statusCode, body: (answer.length > 0 ? JSON.parse(answer) : undefined) as T };
    } catch (error) {
      throw new PeerUnreachable(addr, error instanceof Error ? error.message : String(error));
    }
  }

  /**
   * A body object is stringified once, however many peers it goes to: a round's
   * `/prepare-batch` is one object sent to every participant. (Callers never change a body
   * they have sent; each round, decision message and query builds its own.)
   */
  private textOf(body: unknown): string {
    if (typeof body !== 'object' || body === null) return JSON.stringify(body);
    let text = this.texts.get(body);
    if (text === undefined) {
      text = JSON.stringify(body);
      this.texts.set(body, text);
    }
    return text;
  }

  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((pool) => pool.destroy()));
  }

  private poolFor(addr: string): Pool {
    let pool = this.pools.get(addr);
    if (!pool) {
      pool = new Pool(`http://${addr}`, { connections: peer_connections, keepAliveTimeout: peer_keep_alive_ms, pipelining: 1 });
      this.pools.set(addr, pool);
    }
    return pool;
  }
}
