/**
 * Free loopback ports for the processes the tests, `twopc chaos` and `twopc bench` start:
 * consecutive, below Linux's ephemeral range (32768–60999) so an outgoing connection cannot
 * take one between the check and the node's bind, and of equal digit count so their
 * `host:port` strings sort like the numbers (the master is the lowest address by string order).
 */
import { createServer } from 'node:net';

const port_min = 20_000;
const port_span = 12_000;
const attempts_max = 50;

/** Is `port` free on 127.0.0.1 right now? */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` consecutive free ports. */
export async function findFreePorts(count: number): Promise<readonly number[]> {
  for (let attempt = 0; attempt < attempts_max; attempt += 1) {
    const base = port_min + Math.floor(Math.random() * (port_span - count));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map(isPortFree))).every(Boolean)) return ports;
  }
  throw new Error(`no ${count} consecutive free ports found on 127.0.0.1`);
}
