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
 *
 * Calls go through undici's `dispatch` with a handler of our own (`PeerExchange`), a lower
 * layer of the same library than its `request`: `request` wraps every call in an
 * AsyncResource, a Readable body stream consumed through a promise, parsed headers and an
 * AbortSignal listener, and `AbortSignal.timeout` left a timer per call that fired seconds
 * later anyway, building a DOMException with its stack. On the master, undici and the
 * signals were 9-10 % of its busy time at 64 connections (bench/README.md, profile findings).
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

  call<T = unknown>(addr: string, method: 'GET' | 'POST', path: string, body: unknown, timeout_ms: number): Promise<PeerResponse<T>> {
    if (this.closed) return Promise.reject(new PeerUnreachable(addr, 'client closed'));
    const pool = this.poolFor(addr);
    const text = body === undefined ? '' : this.textOf(body);
    const headers: Record<string, string> = body === undefined ? { [peer_header]: '1' } : { 'content-type': 'application/json', [peer_header]: '1' };
    if (this.secret !== undefined) Object.assign(headers, signRequest(this.secret, { method, path, node: addr, body: text }, this.clock.now_ms()));
    return new Promise<PeerResponse<T>>((resolve, reject) => {
      const exchange = new PeerExchange<T>(addr, timeout_ms, resolve, reject);
      pool.dispatch({ path, method, headers, body: body === undefined ? null : text, headersTimeout: timeout_ms, bodyTimeout: timeout_ms }, exchange);
    });
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

/**
 * One call's answer as undici delivers it (its dispatch handler: connect, headers, data,
 * complete or error): the status and the body's bytes, settled once, by the first of an
 * answer, an error or `timeout_ms` (undici's headers and body timeouts bound the parts; this
 * bounds the whole, a wait for a free connection included).
 */
class PeerExchange<T> {
  private abort: ((reason: Error) => void) | undefined;
  private status = 0;
  private readonly chunks: Buffer[] = [];
  private settled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly addr: string,
    timeout_ms: number,
    private readonly resolve: (response: PeerResponse<T>) => void,
    private readonly reject: (error: PeerUnreachable) => void,
  ) {
    this.timer = setTimeout(() => this.timeOut(timeout_ms), timeout_ms);
  }

  onConnect(abort: (reason: Error) => void): void {
    if (this.settled) abort(new Error('request timeout'));
    else this.abort = abort;
  }

  onHeaders(status: number): boolean {
    // 1xx answers are interim: the real one follows.
    if (status >= 200) this.status = status;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    const text = this.chunks.length === 1 ? this.chunks[0]!.toString() : Buffer.concat(this.chunks).toString();
    try {
      this.resolve({ status: this.status, body: (text.length > 0 ? JSON.parse(text) : undefined) as T });
    } catch (error) {
      this.reject(new PeerUnreachable(this.addr, error instanceof Error ? error.message : String(error)));
    }
  }

  onError(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.reject(new PeerUnreachable(this.addr, error instanceof Error ? error.message : String(error)));
  }

  private timeOut(timeout_ms: number): void {
    if (this.settled) return;
    const error = new Error(`request timeout: no answer within ${timeout_ms} ms`);
    this.onError(error);
    this.abort?.(error);
  }
}
