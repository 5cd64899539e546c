/**
 * Request signing with the cluster secret: HMAC-SHA256 over the method, the path with its
 * query, a timestamp, a nonce and the body. Every request to a node carries the three
 * headers below when the cluster has a secret; peers and the CLI sign alike.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const timestamp_header = 'x-twopc-timestamp';
export const nonce_header = 'x-twopc-nonce';
export const signature_header = 'x-twopc-signature';

/** Shortest cluster secret accepted, in characters. */
export const secret_min_length_chars = 32;
/** How far a request's timestamp may be from the receiver's clock, either way. */
export const signature_window_ms = 10_000;

export interface SignedParts {
  readonly method: string;
  /** Path with its query string, as sent. */
  readonly path: string;
  readonly body: string;
}

export type SignatureHeaders = Readonly<Record<typeof timestamp_header | typeof nonce_header | typeof signature_header, string>>;

export function signRequest(secret: string, parts: SignedParts, now_ms: number, nonce = randomBytes(16).toString('hex')): SignatureHeaders {
  const timestamp = String(now_ms);
  return { [timestamp_header]: timestamp, [nonce_header]: nonce, [signature_header]: hmac(secret, parts, timestamp, nonce) };
}

export type Verdict = { readonly ok: true; readonly nonce: string } | { readonly ok: false; readonly reason: string };

/** Check a request's signature headers; constant-time on the signature itself. */
export function verifyRequest(secret: string, parts: SignedParts, headers: (name: string) => string | null, now_ms: number): Verdict {
  const timestamp = headers(timestamp_header);
  const nonce = headers(nonce_header);
  const signature = headers(signature_header);
  if (timestamp === null || nonce === null || signature === null) return { ok: false, reason: 'request is not signed' };
  if (!/^\d{1,16}$/.test(timestamp) || !/^[0-9a-f]{16,64}$/.test(nonce)) return { ok: false, reason: 'malformed signature headers' };
  if (Math.abs(now_ms - Number(timestamp)) > signature_window_ms) return { ok: false, reason: 'signature timestamp outside the accepted window' };
  const expected = Buffer.from(hmac(secret, parts, timestamp, nonce), 'hex');
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  return { ok: true, nonce };
}

function hmac(secret: string, parts: SignedParts, timestamp: string, nonce: string): string {
  return createHmac('sha256', secret).update(`${parts.method.toUpperCase()}\n${parts.path}\n${timestamp}\n${nonce}\n${parts.body}`).digest('hex');
}
