import { assertBodySize, HTTPError, type H3Event } from 'h3';
import type { Clock } from '../time/clock.ts';
import { verifyRequest } from '../security/signature.ts';
import { ReplayGuard } from '../security/replay-guard.ts';

/**
 * h3 middleware for a cluster with a secret: every request must be signed (peers and
 * clients alike); anything else gets 401 and reaches no route. The body is read here, once,
 * within the body limit, and handed on to the route unchanged.
 */
export function authenticate(secret: string, clock: Clock, body_limit_bytes: number, limitFor: (path: string) => number = () => body_limit_bytes): (event: H3Event) => Promise<void> {
  const replays = new ReplayGuard();
  return async (event) => {
    const request = event.req;
    const url = new URL(request.url);
    let body = '';
    if (request.body !== null) {
      assertBodySize(event, limitFor(url.pathname));
      body = await event.req.text();
      // h3 types `req` read-only, yet its own assertBodySize swaps it the same way: the
      // route reads the body again from this copy.
      (event as { req: Request }).req = new Request(request.url, { method: request.method, headers: request.headers, body });
    }
    const now_ms = clock.now_ms();
    const verdict = verifyRequest(secret, { method: request.method, path: url.pathname + url.search, body }, (name) => request.headers.get(name), now_ms);
    if (!verdict.ok) throw new HTTPError({ status: 401, message: verdict.reason });
    if (!replays.admit(verdict.nonce, now_ms)) throw new HTTPError({ status: 401, message: 'replayed request' });
  };
}
