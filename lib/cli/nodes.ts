import { UsageError } from './exit.ts';
import { flagText } from './flags.ts';
import { addrUrl as nodeUrl, describeBadAddr, parseAddr as parseNodeAddr, type NodeAddr } from '../client/addr.ts';

export type { NodeAddr };

/** The membership used when neither `--nodes` nor `TWOPC_NODES` is given. */
export const default_nodes: readonly string[] = Object.freeze([
  '127.0.0.1:8081',
  '127.0.0.1:8082',
  '127.0.0.1:8083',
]);

/** Parses `host:port` (IPv6 as `[::1]:8081`); a malformed address is a usage error. */
export function parseAddr(text: string): NodeAddr {
  const parsed = parseNodeAddr(text);
  if (parsed === undefined) throw new UsageError(describeBadAddr(text));
  return parsed;
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


/** `http://host:port` for an address (IPv6 hosts bracketed); a malformed one is a usage error. */
export function addrUrl(addr: string): string {
  return nodeUrl(parseAddr(addr));
}
