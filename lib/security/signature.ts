/**
 * Request signing: HMAC-SHA256 over the method, the path with its query, the node the
 * request is for (its address as the membership writes it), a timestamp, a nonce and the
 * SHA-256 of the body (sent as a header). Every request to a node carries the
 * headers below when the cluster has a secret; peers and the CLI sign alike. Because the body
 * enters only through its digest, a node checks a signature from the headers alone, before it
 * reads any body, and then checks the body against the signed digest.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseCredential } from './client-keys.ts';

export const timestamp_header = 'x-twopc-timestamp';
export const nonce_header = 'x-twopc-nonce';
export const signature_header = 'x-twopc-signature';
export const content_digest_header = 'x-twopc-content-sha256';
export const node_header = 'x-twopc-node';
/** Carried by a node's own peer calls: how a cluster without a secret counts peer connections apart (lib/transport/connection-guard.ts). */
export const peer_header = 'x-twopc-peer';
/** Present when a client key signed: the key's name (lib/security/client-keys.ts). */
export const key_header = 'x-twopc-key';

/** Shortest cluster secret accepted, in characters. */
export const secret_min_length_chars = 32;
/** How far a request's timestamp may be from the receiver's clock, either way. */
export const signature_window_ms = 10_000;

export interface SignedParts {
  readonly method: string;
  /** Path with its query string, as sent. */
  readonly path: string;
  /** The node the request is for, `host:port` as in the membership: a signature is good there only. */
  readonly node: string;
  readonly body: string;
}

export type SignatureHeaders = Readonly<Record<typeof timestamp_header | typeof nonce_header | typeof signature_header | typeof content_digest_header | typeof node_header, string>> &
  Readonly<Partial<Record<typeof key_header, string>>>;

/** Sign with `credential`: the cluster secret, or a client key line (`twopc-key:NAME:SECRET`). */
export function signRequest(credential: string, parts: SignedParts, now_ms: number, nonce = randomBytes(16).toString('hex')): SignatureHeaders {
  const parsed = parseCredential(credential) ?? { kind: 'cluster', secret: credential };
  const key = parsed.kind === 'client-key' ? parsed.name : '';
  const timestamp = String(now_ms);
  const digest = digestBody(parts.body);
  return {
    [timestamp_header]: timestamp,
    [nonce_header]: nonce,
    [content_digest_header]: digest,
    [node_header]: parts.node,
    ...(key !== '' && { [key_header]: key }),
    [signature_header]: hmac(parsed.secret, parts, timestamp, nonce, digest, key),
  };
}

/** A verified request: `key` names the client key that signed it (absent: the cluster secret). */
export type Verdict = { readonly ok: true; readonly nonce: string; readonly content_sha256: string; readonly key?: string } | { readonly ok: false; readonly reason: string };

/** The secret of a client key by name, if the node accepts it. */
export type KeyLookup = (name: string) => string | undefined;

/**
 * Check a request's signature headers without its body; constant-time on the signature
 * itself. `parts.node` is the receiver's own address: a request signed for another node is
 * refused, and so is one signed before `not_before_ms` (the receiver's start), so a captured
 * request works neither elsewhere nor after a restart. The body, once read, must match
 * `content_sha256` (`bodyMatches`). A request naming a client key (`x-twopc-key`) is checked
 * with that key's secret (`clientKey`), never with the cluster secret.
 */
export function verifyHeaders(secret: string, parts: Omit<SignedParts, 'body'>, headers: (name: string) => string | null, now_ms: number, not_before_ms = 0, clientKey: KeyLookup = () => undefined): Verdict {
  const timestamp = headers(timestamp_header);
  const nonce = headers(nonce_header);
  const signature = headers(signature_header);
  const digest = headers(content_digest_header);
  if (timestamp === null || nonce === null || signature === null || digest === null) return { ok: false, reason: 'request is not signed' };
  if (!/^\d{1,16}$/.test(timestamp) || !/^[0-9a-f]{16,64}$/.test(nonce) || !/^[0-9a-f]{64}$/.test(digest)) return { ok: false, reason: 'malformed signature headers' };
  const node = headers(node_header);
  if (node !== null && node !== parts.node) return { ok: false, reason: `signed for another node (${node.slice(0, 300)}), this is ${parts.node}` };
  if (Number(timestamp) < not_before_ms) return { ok: false, reason: 'signed before this node started' };
  if (Math.abs(now_ms - Number(timestamp)) > signature_window_ms) return { ok: false, reason: 'signature timestamp outside the accepted window' };
  const key = headers(key_header);
  const signer = key === null ? secret : clientKey(key);
  if (signer === undefined) return { ok: false, reason: 'unknown client key' };
  const expected = Buffer.from(hmac(signer, parts, timestamp, nonce, digest, key ?? ''), 'hex');
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  return { ok: true, nonce, content_sha256: digest, ...(key !== null && { key }) };
}

/** Whether a body read after `verifyHeaders` is the one that was signed. */
export function bodyMatches(body: string, content_sha256: string): boolean {
  return timingSafeEqual(Buffer.from(digestBody(body), 'hex'), Buffer.from(content_sha256, 'hex'));
}

/** A whole request at once (headers and body): what a test or a tool that holds the body asks. */
export function verifyRequest(secret: string, parts: SignedParts, headers: (name: string) => string | null, now_ms: number, not_before_ms = 0, clientKey: KeyLookup = () => undefined): Verdict {
  const verdict = verifyHeaders(secret, parts, headers, now_ms, not_before_ms, clientKey);
  if (verdict.ok && !bodyMatches(parts.body, verdict.content_sha256)) return { ok: false, reason: 'body does not match its signature' };
  return verdict;
}

function digestBody(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

function hmac(secret: string, parts: Omit<SignedParts, 'body'>, timestamp: string, nonce: string, content_sha256: string, key: string): string {
  return createHmac('sha256', secret).update(`${parts.method.toUpperCase()}\n${parts.path}\n${parts.node}\n${key}\n${timestamp}\n${nonce}\n${content_sha256}`).digest('hex');
}
