/**
 * Free loopback ports for the processes the tests, `twopc chaos` and `twopc bench` start:
 * consecutive, below Linux's ephemeral range (32768–60999) so an outgoing connection cannot
 * take one between the check and the node's bind, and of equal digit count so their
 * `host:port` strings sort like the numbers (the master is the lowest address by string order).
 */
import { createServer } from 'node:net';

/** The default range, 20000–31999; env `TWOPC_TEST_PORT_MIN` and `TWOPC_TEST_PORT_SPAN` move it. */
export const port_min_default = 20_000;
export const port_span_default = 12_000;
const attempts_max = 50;
const port_max = 65_535;

export interface PortRange {
  /** Lowest port, and how many ports from there on may be taken. */
  readonly min: number;
  readonly span: number;
}

/**
 * The range to pick from: env `TWOPC_TEST_PORT_MIN` (default 20000) and `TWOPC_TEST_PORT_SPAN`
 * (default 12000), so parallel runs or a machine with busy ports can move them apart. Its
 * ports must share one digit count (string order = number order); a bad value throws.
 */
export function portRange(env: NodeJS.ProcessEnv = process.env): PortRange {
  const min = readWhole(env, 'TWOPC_TEST_PORT_MIN', port_min_default);
  const span = readWhole(env, 'TWOPC_TEST_PORT_SPAN', port_span_default);
  const last = min + span - 1;
  if (min < 1_024 || span < 1 || last > port_max) {
    throw new Error(`TWOPC_TEST_PORT_MIN=${min} and TWOPC_TEST_PORT_SPAN=${span} must give ports within 1024-${port_max}`);
  }
  if (String(min).length !== String(last).length) {
    throw new Error(`ports ${min}-${last} must have one digit count (the master is the lowest address by string order): move TWOPC_TEST_PORT_MIN or shorten TWOPC_TEST_PORT_SPAN`);
  }
  return { min, span };
}

function readWhole(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  if (!/^\d{1,5}$/.test(text.trim())) throw new Error(`${name} must be a whole number, got "${text}"`);
  return Number(text.trim());
}

/** Is `port` free on 127.0.0.1 right now? */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` consecutive free ports within `portRange()`. */
export async function findFreePorts(count: number, range: PortRange = portRange()): Promise<readonly number[]> {
  if (count > range.span) throw new Error(`${count} consecutive ports do not fit in ${range.min}-${range.min + range.span - 1} (TWOPC_TEST_PORT_SPAN)`);
  for (let attempt = 0; attempt < attempts_max; attempt += 1) {
    const base = range.min + Math.floor(Math.random() * (range.span - count + 1));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map(isPortFree))).every(Boolean)) return ports;
  }
  throw new Error(`no ${count} consecutive free ports found on 127.0.0.1 in ${range.min}-${range.min + range.span - 1} (TWOPC_TEST_PORT_MIN, TWOPC_TEST_PORT_SPAN)`);
}
