/**
 * Node addresses as the client takes them: `host:port`, IPv6 as `[::1]:8081`. An address is
 * kept exactly as written, since the master is chosen by comparing these strings.
 */
const max_port = 65_535;
const hostname_pattern = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const ipv6_pattern = /^[0-9A-Fa-f:.]+$/;

/** A validated `host:port`. */
export interface NodeAddr {
  readonly addr: string;
  /** The host without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port`; undefined when it is not one. */
export function parseAddr(text: string): NodeAddr | undefined {
  const addr = text.trim();
  const colon = addr.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const host = unbracket(addr.slice(0, colon));
  const port = parsePort(addr.slice(colon + 1));
  if (host === undefined || port === undefined) return undefined;
  return { addr, host, port };
}

/** Why `text` is not a node address, in words. */
export function describeBadAddr(text: string): string {
  return `bad node address "${text}": expected HOST:PORT with a port 1-${max_port}`;
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

/** `http://host:port` for a valid address (IPv6 hosts bracketed). */
export function addrUrl(addr: NodeAddr): string {
  return addr.host.includes(':') ? `http://[${addr.host}]:${addr.port}` : `http://${addr.host}:${addr.port}`;
}
