/**
 * Free loopback ports for the benchmark's processes, below Linux's ephemeral range so an
 * outgoing connection cannot take a chosen port between the check and the bind.
 */
import { createServer } from 'node:net';

const port_min = 20_000;
const port_span = 12_000;
const port_attempts = 50;

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * `count` consecutive free ports of equal digit count, so `host:port` strings sort like the
 * numbers (the master is the lowest address by string order).
 */
export async function findFreePorts(count: number): Promise<readonly number[]> {
  for (let attempt = 0; attempt < port_attempts; attempt += 1) {
    const base = port_min + Math.floor(Math.random() * (port_span - count));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(ports.map(isPortFree));
    if (free.every(Boolean)) return ports;
  }
  throw new Error(`no ${count} consecutive free ports found on 127.0.0.1`);
}
