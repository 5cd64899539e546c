import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Listener } from 'listhen';
import { listen } from './listhen-lean.ts';
import { toNodeHandler, type H3 } from 'h3';
import { default_limits } from '../node/options.ts';
import { default_connection_limits, guardConnections, type ConnectionLimits } from './connection-guard.ts';
import { key_header, peer_header, signature_header } from '../security/signature.ts';

export interface HttpServer {
  readonly url: string;
  /** Hand requests to `app` from now on (until then each gets 503 `{"error"}`: the node is starting). */
  serve(app: H3): void;
  close(): Promise<void>;
}

/**
 * Listen on exactly `host:port` with listhen. `isProd` keeps listhen from silently moving
 * to another port when this one is busy: a node must fail loudly instead. Its developer
 * extras (QR code, clipboard, browser, tunnel) stay off. Without `app` the port is owned
 * first and every request answered 503 until `serve(app)`: a node binds before it writes
 * anything to its folder, so a start on a busy port changes nothing.
 */
export async function listenHttp(
  app: H3 | undefined,
  host: string,
  port: number,
  body_read_timeout_ms = default_limits.body_read_timeout_ms,
  signed = false,
  connection_limits: ConnectionLimits = default_connection_limits,
): Promise<HttpServer> {
  let current: NodeHandler = app === undefined ? answerStarting : toNodeHandler(app);
  let guarded: NodeHandler = withBodyDeadline((req, res) => current(req, res), body_read_timeout_ms);
  const handler: NodeHandler = (req, res) => guarded(req, res);
  const listener: Listener = await listen(handler, {
    hostname: host,
    port,
    isProd: true,
    showURL: false,
    qr: false,
    open: false,
    clipboard: false,
    public: host !== '127.0.0.1' && host !== 'localhost',
    tunnel: false,
    autoClose: false,
    ws: false,
  });
  const server = listener.server as Server;
  if (listener.address.port !== port) {
    await closeServer(server);
    throw new Error(`port ${port} is busy`);
  }
  dropShutdownTracker(server, handler);
  server.on('clientError', answerClientError);
  guarded = guardConnections(server, guarded, connection_limits, (req, res) => isPeerRequest(req, res, signed));
  return {
    url: `http://${host}:${port}`,
    serve: (ready) => {
      current = toNodeHandler(ready);
    },
    close: () => closeServer(server),
  };
}

/**
 * A request that proves its connection a peer's: with a secret, signed with the cluster
 * secret (not a client key) and not refused; without one (loopback, where every local
 * process is trusted anyway), one of a node's own peer calls.
 */
function isPeerRequest(req: IncomingMessage, res: ServerResponse, signed: boolean): boolean {
  if (!signed) return req.headers[peer_header] !== undefined;
  return req.headers[signature_header] !== undefined && req.headers[key_header] === undefined && res.statusCode !== 401 && res.statusCode !== 403;
}

function answerStarting(_req: IncomingMessage, res: ServerResponse): void {
  const body = JSON.stringify({ status: 'starting', error: 'node is starting' });
  res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * A request whose body has not fully arrived `timeout_ms` after its headers (a client that
 * stalls or trickles) gets 408 `{"error"}` and its connection is closed; the route still
 * waiting for that body then fails on the closed stream and changes nothing. Node's own
 * `requestTimeout` is checked only every 30 s and defaults to 5 minutes.
 */
function withBodyDeadline(handler: NodeHandler, timeout_ms: number): NodeHandler {
  return (req, res) => {
    const has_body = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
    if (has_body && !req.complete) {
      const timer = setTimeout(() => refuseSlowBody(req, res, timeout_ms), timeout_ms);
      const clear = () => clearTimeout(timer);
      req.once('end', clear);
      req.once('close', clear);
      res.once('close', clear);
    }
    return handler(req, res);
  };
}

function refuseSlowBody(req: IncomingMessage, res: ServerResponse, timeout_ms: number): void {
  if (req.complete) return;
  if (res.headersSent) return void req.socket.destroy();
  const body = JSON.stringify({ error: `request body not received within ${timeout_ms} ms` });
  res.writeHead(408, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body, () => req.socket.destroy());
}

/**
 * A request Node's parser refuses before any route sees it (headers too large, a broken
 * request line or encoding) gets the same `{"error"}` answer as any other 4xx, then the
 * connection closes.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const reason = status === 431 ? 'request headers too large' : status === 408 ? 'request not received in time' : 'malformed HTTP request';
  const body = JSON.stringify({ error: reason });
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`;
  socket.end(head + body);
}

/**
 * listhen wraps the server with http-shutdown, whose per-request hook throws (and so
 * kills the process) when a response finishes after its socket is gone, which is what
 * happens when a node answers 413 to a body still arriving. The node closes its server
 * itself, so the hook goes.
 */
function dropShutdownTracker(server: Server, handler: unknown): void {
  for (const listener of server.listeners('request')) {
    if (listener !== handler) server.removeListener('request', listener as (...args: unknown[]) => void);
  }
}

/** Stop accepting, end every open connection (idle keep-alive ones included), and wait. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
