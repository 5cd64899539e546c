import { addrUrl } from './nodes.ts';
import { signRequest } from '../security/signature.ts';

/** The cluster secret this process signs its requests with, if the cluster has one. */
let signing_secret: string | undefined;

/** Sign every later request with `secret` (the CLI calls this once, before any command). */
export function signRequestsWith(secret: string | undefined): void {
  signing_secret = secret;
}

/**
 * What one HTTP call to a node came to. It never throws and never outlives its timeout.
 * - `answer`: the node answered (any status); `body` is the parsed JSON, or the raw text.
 * - `unreachable`: the connection was never made, so nothing was sent.
 * - `no-answer`: the request may have reached the node, but no answer came back in time or
 *   the connection broke: the caller cannot tell whether it was acted upon.
 */
export type HttpResult =
  | { readonly kind: 'answer'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'unreachable'; readonly reason: string }
  | { readonly kind: 'no-answer'; readonly reason: string };

export interface HttpRequest {
  readonly method?: 'GET' | 'POST';
  readonly body?: unknown;
  readonly timeout_ms: number;
}

/** Error codes that mean the connection was never established. */
const not_connected_codes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** One JSON request to `addr` (`host:port`) at `path`, bounded by `timeout_ms` end to end. */
export async function requestJson(addr: string, path: string, request: HttpRequest): Promise<HttpResult> {
  let url: string;
  try {
    url = `${addrUrl(addr)}${path}`;
  } catch {
    return { kind: 'unreachable', reason: `bad node address "${addr}"` };
  }
  const method = request.method ?? 'GET';
  const body = request.body === undefined ? '' : JSON.stringify(request.body);
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
  if (signing_secret !== undefined) Object.assign(headers, signRequest(signing_secret, { method, path, body }, Date.now()));
  const init: RequestInit = { method, headers, signal: AbortSignal.timeout(Math.max(1, Math.round(request.timeout_ms))) };
  if (request.body !== undefined) init.body = body;
  try {
    const response = await fetch(url, init);
    const text = await response.text();
    return { kind: 'answer', status: response.status, body: parseBody(text) };
  } catch (error) {
    return classifyFailure(error, request.timeout_ms);
  }
}

/** `requestJson` for a GET. */
export function getJson(addr: string, path: string, timeout_ms: number): Promise<HttpResult> {
  return requestJson(addr, path, { timeout_ms });
}

/** `requestJson` for a POST with a JSON body. */
export function postJson(addr: string, path: string, body: unknown, timeout_ms: number): Promise<HttpResult> {
  return requestJson(addr, path, { method: 'POST', body, timeout_ms });
}

/** The `error` (or `reason`) field of a node's JSON answer, else a generic description. */
export function answerReason(status: number, body: unknown): string {
  if (isRecord(body)) {
    if (typeof body['error'] === 'string') return body['error'];
    if (typeof body['reason'] === 'string') return body['reason'];
  }
  if (typeof body === 'string' && body.trim() !== '') return `HTTP ${status}: ${body.trim().slice(0, 200)}`;
  return `HTTP ${status}`;
}

export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function classifyFailure(error: unknown, timeout_ms: number): HttpResult {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return { kind: 'no-answer', reason: `no answer within ${timeout_ms} ms` };
  }
  const code = causeCode(error);
  if (code !== undefined && not_connected_codes.has(code)) {
    return { kind: 'unreachable', reason: code === 'ECONNREFUSED' ? 'connection refused' : code };
  }
  const detail = code ?? (error instanceof Error ? error.message : String(error));
  return { kind: 'no-answer', reason: `connection broke (${detail})` };
}

function causeCode(error: unknown): string | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  if (isRecord(cause) && typeof cause['code'] === 'string') return cause['code'];
  if (isRecord(error) && typeof error['code'] === 'string') return error['code'];
  return undefined;
}
