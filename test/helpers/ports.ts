import { createServer } from 'node:net';

/** Is `port` free on 127.0.0.1 right now? */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Test nodes listen in [20000, 32000): below Linux's ephemeral range (32768-60999), so an
 * outgoing connection cannot take a chosen port between the check and the node's bind. */
const test_port_min = 20_000;
const test_port_span = 12_000;

/**
 * `count` consecutive free ports with the same number of digits, so their `host:port`
 * strings sort like the numbers (the master is the lowest address by string order).
 */
export async function findFreePorts(count: number): Promise<readonly number[]> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = test_port_min + Math.floor(Math.random() * (test_port_span - count));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(ports.map(isPortFree));
    if (free.every(Boolean)) return ports;
  }
  throw new Error('no free ports found');
}
