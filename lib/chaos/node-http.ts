/**
 * The chaos harness's HTTP calls to nodes: JSON in and out, a hard timeout, signed with the
 * cluster secret when the run has one. Never throws: a failure says whether the request may
 * have reached the node (`no-answer`) or certainly did not (`unreachable`).
 */
import { signRequest } from '../security/signature.ts';

export type NodeAnswer =
  | { readonly kind: 'answer'; readonly status: number; readonly body: any }
  | { readonly kind: 'unreachable'; readonly reason: string }
  | { readonly kind: 'no-answer'; readonly reason: string };

const not_connected_codes: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EINVAL', 'UND_ERR_CONNECT_TIMEOUT']);

export class NodeHttp {
  constructor(private readonly secret: string | undefined) {}

  async call(addr: string, method: 'GET' | 'POST', path: string, body: unknown, timeout_ms: number): Promise<NodeAnswer> {
    const sent = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.secret !== undefined) Object.assign(headers, signRequest(this.secret, { method, path, node: addr, body: sent }, Date.now()));
    try {
      const response = await fetch(`http://${addr}${path}`, { method, headers, signal: AbortSignal.timeout(timeout_ms), ...(body !== undefined && { body: sent }) });
      const text = await response.text();
      return { kind: 'answer', status: response.status, body: parse(text) };
    } catch (error) {
      if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return { kind: 'no-answer', reason: `no answer within ${timeout_ms} ms` };
      const code = codeOf(error);
      if (code !== undefined && not_connected_codes.has(code)) return { kind: 'unreachable', reason: code };
      return { kind: 'no-answer', reason: code ?? String(error) };
    }
  }

  get(addr: string, path: string, timeout_ms = 2_000): Promise<NodeAnswer> {
    return this.call(addr, 'GET', path, undefined, timeout_ms);
  }

  post(addr: string, path: string, body: unknown, timeout_ms = 2_000): Promise<NodeAnswer> {
    return this.call(addr, 'POST', path, body, timeout_ms);
  }

  /** A GET that must answer 200; anything else throws with what came back. */
  async getOk(addr: string, path: string, timeout_ms = 5_000): Promise<any> {
    const answer = await this.get(addr, path, timeout_ms);
    if (answer.kind !== 'answer' || answer.status !== 200) throw new Error(`GET ${path} on ${addr}: ${describe(answer)}`);
    return answer.body;
  }
}

export function describe(answer: NodeAnswer): string {
  if (answer.kind !== 'answer') return `${answer.kind} (${answer.reason})`;
  const error = typeof answer.body === 'object' && answer.body !== null && typeof answer.body.error === 'string' ? `: ${answer.body.error}` : '';
  return `HTTP ${answer.status}${error}`;
}

function parse(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function codeOf(error: unknown): string | undefined {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  return undefined;
}

export function sleep(duration_ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, duration_ms));
}
