import { signature_window_ms } from './signature.ts';

/** Most nonces remembered at once; past this a request is refused rather than risk a replay. */
export const replay_guard_capacity = 200_000;

/**
 * Remembers the nonces of accepted requests for twice the signature window, so a captured
 * request sent again within its window is refused. Memory is bounded.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  /** True if `nonce` is new (and now remembered); false for a replay or a full guard. */
  admit(nonce: string, now_ms: number): boolean {
    this.forgetExpired(now_ms);
    if (this.seen.has(nonce) || this.seen.size >= replay_guard_capacity) return false;
    this.seen.set(nonce, now_ms + 2 * signature_window_ms);
    return true;
  }

  private forgetExpired(now_ms: number): void {
    // Insertion order is expiry order: stop at the first nonce still inside its window.
    for (const [nonce, expires_ms] of this.seen) {
      if (expires_ms > now_ms) return;
      this.seen.delete(nonce);
    }
  }
}
