import type { Server } from 'node:http';
import { listen, type Listener } from 'listhen';
import { toNodeHandler, type H3 } from 'h3';

export interface HttpServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Listen on exactly `host:port` with listhen. `isProd` keeps listhen from silently moving
 * to another port when this one is busy: a node must fail loudly instead. Its developer
 * extras (QR code, clipboard, browser, tunnel) stay off.
 */
export async function listenHttp(app: H3, host: string, port: number): Promise<HttpServer> {
  const handler = toNodeHandler(app);
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
  return { url: `http://${host}:${port}`, close: () => closeServer(server) };
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
