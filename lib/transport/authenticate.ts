import { HTTPError, type H3Event } from 'h3';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../time/clock.ts';
import { verifyHeaders } from '../security/signature.ts';
import { ReplayGuard } from '../security/replay-guard.ts';
import { isClientRoute, type ClientKeys } from '../security/client-keys.ts';
import { readBodyBytes, readHeader } from './request-body.ts';

/**
 * h3 middleware for a cluster with a secret: every request must be signed (peers and
 * clients alike); anything else gets 401 and reaches no route. The signature is checked from
 * the headers alone, so an unsigned or badly signed request is answered before one byte of
 * its body is read (the answer closes the connection): all an unauthenticated request can
 * make a node read is its headers (Node's header limit). A signed body is then read once,
 * within the route's body limit, checked against its signed digest, and handed on to the
 * route unchanged. A request signed with a client key reaches the client routes only (403
 * elsewhere): peers and operators' peer-route calls need the cluster secret.
 */
export function authenticate(secret: string, clock: Clock, limitFor: (path: string) => number, addr: string, client_keys?: ClientKeys): (event: H3Event) => Promise<void> {
  const replays = new ReplayGuard();
  // Nonces live in memory only: what was signed before this process started is refused
  // outright, so a request captured before a restart cannot be replayed after it.
  const started_ms = clock.now_ms();
  return async (event) => {
    const request = event.req;
    const url = new URL(request.url);
    const now_ms = clock.now_ms();
    const verdict = verifyHeaders(secret, { method: request.method, path: url.pathname + url.search, node: addr }, (name) => readHeader(event, name), now_ms, started_ms, (name) => client_keys?.secretOf(name, now_ms));
    if (!verdict.ok) throw new HTTPError({ status: 401, message: verdict.reason });
    if (verdict.key !== undefined && !isClientRoute(request.method, url.pathname)) {
      throw new HTTPError({ status: 403, message: `client key ${verdict.key} opens the client routes only; ${url.pathname} needs the cluster secret` });
    }
    if (!replays.admit(verdict.nonce, now_ms)) throw new HTTPError({ status: 401, message: 'replayed request' });
    // The route reads the same bytes again (lib/transport/request-body.ts keeps them with the event).
    const body = await readBodyBytes(event, limitFor(url.pathname));
    const digest = createHash('sha256').update(body).digest();
    if (!timingSafeEqual(digest, Buffer.from(verdict.content_sha256, 'hex'))) throw new HTTPError({ status: 401, message: 'body does not match its signature' });
  };
}
