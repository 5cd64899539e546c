/**
 * `twopc dashboard`: the dashboard page served from loopback, for clusters with a secret. A
 * browser cannot sign requests, and must never hold the cluster secret; so the page
 * (lib/transport/dashboard-page.ts, in `proxy` mode) asks this server for
 * `/dashboard/data?node=<member>`, and this server makes that one call to the member, signed
 * with the secret, and hands back the member's answer. Nothing else is relayed: only
 * `GET /dashboard/data`, only to the nodes it was given or the members they name, and only
 * for requests whose Host is this server's own address (another site that resolves its own
 * name to 127.0.0.1 gets 403).
 *
 * It binds 127.0.0.1. In a container the host's browser cannot reach the container's loopback,
 * so `--host 0.0.0.0` there, with the port published on the host's loopback only
 * (compose.yaml does this).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createTransport, type Transport } from '../client/http.ts';
import { isRecord } from '../client/answer.ts';
import { renderDashboardPage } from '../transport/dashboard-page.ts';

/** Where this server binds unless told otherwise: the page is for the person at this machine. */
export const dashboard_host = '127.0.0.1';
/** Port when `--port` is not given. */
export const dashboard_port_default = 8090;
/** How long one relayed call to a node may take (under the page's own poll timeout). */
export const dashboard_relay_timeout_ms = 1_200;

export interface DashboardServerOptions {
  /** The nodes to start from; the members they name are added as their answers arrive. */
  readonly nodes: readonly string[];
  /** 0 picks a free port. */
  readonly port: number;
  /** Default `dashboard_host`. */
  readonly host?: string;
  /** The cluster secret the calls to nodes are signed with (none: unsigned calls). */
  readonly secret?: string;
}

export interface DashboardServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const known = new Set(options.nodes);
  const host = options.host ?? dashboard_host;
  const transport = createTransport(options.secret);
  let port = options.port;
  const server = createServer((request, response) => {
    answer(request, response, { known, host, port, nodes: options.nodes, transport }).catch((error: unknown) =>
      sendJson(response, 500, { error: `dashboard server failed: ${String(error)}` }),
    );
  });
  await listen(server, host, options.port);
  port = (server.address() as { port: number }).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    close: () => new Promise((resolve) => {
      transport.close();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

interface Relay {
  readonly known: Set<string>;
  readonly host: string;
  readonly port: number;
  readonly nodes: readonly string[];
  /** Signs every call with the cluster secret, when there is one. */
  readonly transport: Transport;
}

async function answer(request: IncomingMessage, response: ServerResponse, relay: Relay): Promise<void> {
  const host = request.headers.host ?? '';
  const accepted = [`${dashboard_host}:${relay.port}`, `localhost:${relay.port}`, `${relay.host}:${relay.port}`];
  if (!accepted.includes(host)) {
    return sendJson(response, 403, { error: `this dashboard answers only http://${dashboard_host}:${relay.port}/` });
  }
  const url = new URL(request.url ?? '/', `http://${host}`);
  if (url.pathname !== '/' && url.pathname !== '/dashboard/data') return sendJson(response, 404, { error: 'no such route' });
  if (request.method !== 'GET') return sendJson(response, 405, { error: 'method not allowed' });
  if (url.pathname === '/') return sendPage(response, relay.nodes);
  const node = url.searchParams.get('node');
  if (node === null || !relay.known.has(node)) {
    return sendJson(response, 400, { error: `node must be one of the cluster's members (${[...relay.known].join(', ')})` });
  }
  const relayed = await fetchDashboardData(relay.transport, node);
  if (relayed.status === 200) learnMembers(relay.known, relayed.body);
  return sendJson(response, relayed.status, relayed.body);
}

/** One signed `GET /dashboard/data` to `node`; a node that does not answer becomes a 502. */
async function fetchDashboardData(transport: Transport, node: string): Promise<{ readonly status: number; readonly body: unknown }> {
  const result = await transport.request(node, '/dashboard/data', { timeout_ms: dashboard_relay_timeout_ms });
  if (result.kind !== 'answer') return { status: 502, body: { error: `${node} did not answer (${result.reason})` } };
  if (!isRecord(result.body)) return { status: 502, body: { error: `${node} answered HTTP ${result.status} without a JSON object: is it a twopc node?` } };
  return { status: result.status, body: result.body };
}

/** A member list in a node's answer widens the set of nodes the page may ask for. */
function learnMembers(known: Set<string>, body: unknown): void {
  const members = (body as { readonly members?: unknown }).members;
  if (!Array.isArray(members)) return;
  for (const member of members) if (typeof member === 'string') known.add(member);
}

function sendPage(response: ServerResponse, nodes: readonly string[]): void {
  const nonce = randomBytes(16).toString('base64');
  response.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // Defence in depth: only the page's own script runs, and it may talk only to this origin.
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
  });
  response.end(renderDashboardPage({ via: 'proxy', nodes, nonce }));
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  response.end(JSON.stringify(body));
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
