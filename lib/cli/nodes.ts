import { UsageError } from './exit.ts';
import { flagText } from './flags.ts';

/** The membership used when neither `--nodes` nor `TWOPC_NODES` is given. */
export const default_nodes: readonly string[] = Object.freeze([
  '127.0.0.1:8081',
  '127.0.0.1:8082',
  '127.0.0.1:8083',
]);

const max_port = 65_535;
const hostname_pattern = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const ipv6_pattern = /^[0-9A-Fa-f:.]+$/;

/** A validated `host:port`. `addr` is kept exactly as written: the master is chosen by comparing it. */
export interface NodeAddr {
  readonly addr: string;
  /** The host without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port` (IPv6 as `[::1]:8081`); a malformed address is a usage error. */
export function parseAddr(text: string): NodeAddr {
  const addr = text.trim();
  const colon = addr.lastIndexOf(':');
  if (colon <= 0) throw new UsageError(`bad node address "${text}": expected HOST:PORT`);
  const host = unbracket(addr.slice(0, colon));
  const port = parsePort(addr.slice(colon + 1));
  if (host === undefined || port === undefined) {
    throw new UsageError(`bad node address "${text}": expected HOST:PORT with a port 1-${max_port}`);
  }
  return { addr, host, port };
}

/** Parses a comma-separated list of addresses; empty entries, bad or repeated ones are usage errors. */
export function parseAddrList(text: string, flag: string): readonly string[] {
  const addrs = text.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (addrs.length === 0) throw new UsageError(`${flag} needs at least one HOST:PORT`);
  const seen = new Set<string>();
  for (const addr of addrs) {
    parseAddr(addr);
    if (seen.has(addr)) throw new UsageError(`${flag} names ${addr} twice`);
    seen.add(addr);
  }
  return Object.freeze(addrs);
}

/** `--nodes`, else env `TWOPC_NODES`, else the three default local nodes. */
export function resolveNodes(flag: unknown, env: NodeJS.ProcessEnv = process.env): readonly string[] {
  if (flag !== undefined) return parseAddrList(flagText(flag, '--nodes'), '--nodes');
  const fromEnv = env['TWOPC_NODES'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return parseAddrList(fromEnv, 'TWOPC_NODES');
  return default_nodes;
}

/** `http://host:port` for an address (IPv6 hosts bracketed). */
export function addrUrl(addr: string): string {
  const { host, port } = parseAddr(addr);
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

function unbracket(host: string): string | undefined {
  if (host.startsWith('[') && host.endsWith(']')) {
    const inner = host.slice(1, -1);
    return inner.includes(':') && ipv6_pattern.test(inner) ? inner : undefined;
  }
  return hostname_pattern.test(host) ? host : undefined;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= max_port ? port : undefined;
}
