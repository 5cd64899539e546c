/**
 * Free loopback ports for a chaos cluster: consecutive, below Linux's ephemeral range so an
 * outgoing connection cannot take one between the check and the node's bind, and with the
 * same number of digits so `host:port` strings sort like the numbers.
 */
import { createServer } from 'node:net';

const port_min = 20_000;
const port_span = 12_000;
const attempts_max = 50;

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function findPorts(count: number): Promise<readonly number[]> {
  for (let attempt = 0; attempt < attempts_max; attempt += 1) {
    const base = port_min + Math.floor(Math.random() * (port_span - count));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map(isPortFree))).every(Boolean)) return ports;
  }
  throw new Error('no free ports found');
}
