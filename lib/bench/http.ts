/**
 * The benchmark's own HTTP calls (role lookups, health probes, single commits), over one
 * keep-alive undici Agent. Every call has a timeout; a failure to connect is an answer
 * with status 0, never a throw, so loops can simply retry.
 */
import { Agent, request } from 'undici';

export interface BenchAnswer {
  /** HTTP status; 0 when the request failed before any answer (refused, reset, timed out). */
  readonly status: number;
  readonly body: any;
}

const agent = new Agent({ connections: 32, keepAliveTimeout: 10_000, pipelining: 1 });

/** One JSON request to `http://addr/path`; never rejects. */
export async function call(addr: string, method: 'GET' | 'POST', path: string, body: unknown, timeout_ms: number): Promise<BenchAnswer> {
  try {
    const response = await request(`http://${addr}${path}`, {
      method,
      dispatcher: agent,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(timeout_ms),
      headersTimeout: timeout_ms,
      bodyTimeout: timeout_ms,
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: parseJson(text) };
  } catch {
    return { status: 0, body: undefined };
  }
}

function parseJson(text: string): unknown {
  try {
    return text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Closes the shared Agent (at the end of a run, so the process can exit). */
export async function closeHttp(): Promise<void> {
  await agent.close();
}
