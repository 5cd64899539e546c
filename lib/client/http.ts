/**
 * One JSON request to a node over `node:http` (light to load; no fetch, no extra package).
 * It tells apart what the exit codes and the retry rules rely on:
 * - `answer`: the node answered (any status); `body` is the parsed JSON, or the raw text.
 * - `unreachable`: no connection was made (refused, no route, no connection in time), so
 *   nothing was sent.
 * - `no-answer`: a connection was made, so the request may have reached the node, but no
 *   answer came back in time or the connection broke: it may or may not have been acted on.
 * It never throws and never outlives `timeout_ms`. With a cluster secret every request is
 * signed (lib/security/signature.ts).
 */
import { Agent, request as httpRequest, type ClientRequest } from 'node:http';
import { signRequest } from '../security/signature.ts';
import { parseAddr, describeBadAddr } from './addr.ts';

export type HttpResult =
  | { readonly kind: 'answer'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'unreachable'; readonly reason: string }
  | { readonly kind: 'no-answer'; readonly reason: string };

export interface HttpRequest {
  readonly method?: 'GET' | 'POST';
  readonly body?: unknown;
  readonly timeout_ms: number;
}

/** Sends requests to nodes, reusing connections; `close` drops the idle ones. */
export interface Transport {
  request(addr: string, path: string, request: HttpRequest): Promise<HttpResult>;
  close(): void;
}

/** Idle connections kept per node for the next request. */
const idle_sockets_max = 4;

export function createTransport(secret: string | undefined): Transport {
  const agent = new Agent({ keepAlive: true, maxFreeSockets: idle_sockets_max });
  return {
    request: (addr, path, request) => sendRequest(agent, secret, addr, path, request),
    close: () => agent.destroy(),
  };
}

function sendRequest(agent: Agent, secret: string | undefined, addr: string, path: string, request: HttpRequest): Promise<HttpResult> {
  const target = parseAddr(addr);
  if (target === undefined) return Promise.resolve({ kind: 'unreachable', reason: describeBadAddr(addr) });
  const method = request.method ?? 'GET';
  const body = request.body === undefined ? '' : JSON.stringify(request.body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (request.body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  if (secret !== undefined) Object.assign(headers, signRequest(secret, { method, path, node: addr, body }, Date.now()));
  const timeout_ms = Math.max(1, Math.round(request.timeout_ms));
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const finish = (result: HttpResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const outgoing: ClientRequest = httpRequest({ agent, host: target.host, port: target.port, method, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => finish({ kind: 'answer', status: response.statusCode ?? 0, body: parseBody(Buffer.concat(chunks).toString('utf8')) }));
      response.on('error', (error) => finish({ kind: 'no-answer', reason: `connection broke (${describe(error)})` }));
    });
    outgoing.on('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    outgoing.on('error', (error) => finish(connected ? { kind: 'no-answer', reason: `connection broke (${describe(error)})` } : { kind: 'unreachable', reason: describeConnectError(error) }));
    const timer = setTimeout(() => {
      finish(connected ? { kind: 'no-answer', reason: `no answer within ${timeout_ms} ms` } : { kind: 'unreachable', reason: `no connection within ${timeout_ms} ms` });
      outgoing.destroy();
    }, timeout_ms);
    outgoing.end(request.body === undefined ? undefined : body);
  });
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function describeConnectError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNREFUSED' ? 'connection refused' : describe(error);
}

function describe(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message;
}
