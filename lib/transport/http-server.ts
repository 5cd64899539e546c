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
  const listener: Listener = await listen(toNodeHandler(app), {
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
  const actual = listener.address.port;
  if (actual !== port) {
    await listener.close();
    throw new Error(`port ${port} is busy (listhen offered ${actual})`);
  }
  return { url: `http://${host}:${port}`, close: () => listener.close() };
}
