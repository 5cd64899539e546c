/**
 * Network namespaces for the partition scenarios (Linux, root, iproute2): a bridge in the
 * root namespace, one namespace per node joined to it by a veth pair, node i at
 * 10.77.S.(i+1):7000. A partition is a pair of blackhole routes inside the two namespaces;
 * healing deletes them. Names carry this process's pid, so a concurrent run never clashes
 * and leftovers of a dead run (its pid gone) are removed at the next start.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { Placement } from './cluster.ts';

export const node_port = 7000;
const namespace_prefix = 'twopc-';
const link_prefix = 'tp';

function ip(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

function tryIp(args: readonly string[]): void {
  try {
    ip(args);
  } catch {
    // already gone
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why namespaces cannot be used here, or undefined when they can. */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    ip(['-V']);
  } catch {
    return 'iproute2 (`ip`) is not installed';
  }
  const probe = `${namespace_prefix}probe-${randomBytes(3).toString('hex')}`;
  try {
    ip(['netns', 'add', probe]);
  } catch (error) {
    return `\`ip netns add\` failed: ${String((error as { stderr?: unknown }).stderr ?? error).trim().split('\n')[0]}`;
  } finally {
    tryIp(['netns', 'del', probe]);
  }
  return undefined;
}

/** Remove namespaces, veths and bridges left by chaos runs whose process is gone. */
export function removeLeftovers(): void {
  let namespaces: string[] = [];
  try {
    namespaces = readdirSync('/var/run/netns');
  } catch {
    namespaces = [];
  }
  for (const name of namespaces) {
    const match = /^twopc-(\d+)-n\d+$/.exec(name) ?? /^twopc-probe-/.exec(name);
    if (match && (match[1] === undefined || !pidAlive(Number(match[1])))) tryIp(['netns', 'del', name]);
  }
  let links = '';
  try {
    links = ip(['-o', 'link', 'show']);
  } catch {
    return;
  }
  for (const line of links.split('\n')) {
    const match = /^\d+:\s+(tp(\d+)(?:br|n\d+))[@:]/.exec(line);
    if (match?.[1] && !pidAlive(Number(match[2]))) tryIp(['link', 'del', match[1]]);
  }
}

/** One run's namespaces. `create` sets them up; `destroy` is safe to call twice. */
export class NetnsLayout {
  readonly addrs: readonly string[];
  private readonly blackholes = new Set<string>();
  private readonly subnet: string;

  constructor(
    readonly size: number,
    private readonly tag = String(process.pid),
  ) {
    this.subnet = `10.77.${(Number(tag) % 250) + 1}`;
    this.addrs = Array.from({ length: size }, (_, i) => `${this.ipOf(i)}:${node_port}`);
  }

  private ipOf(index: number): string {
    return `${this.subnet}.${index + 2}`;
  }

  private namespace(index: number): string {
    return `${namespace_prefix}${this.tag}-n${index + 1}`;
  }

  private bridge(): string {
    return `${link_prefix}${this.tag}br`;
  }

  private indexOf(addr: string): number {
    const index = this.addrs.indexOf(addr);
    if (index < 0) throw new Error(`${addr} is not in this layout`);
    return index;
  }

  create(): void {
    this.destroy();
    const bridge = this.bridge();
    ip(['link', 'add', bridge, 'type', 'bridge']);
    ip(['addr', 'add', `${this.subnet}.254/24`, 'dev', bridge]);
    ip(['link', 'set', bridge, 'up']);
    for (let i = 0; i < this.size; i += 1) {
      const ns = this.namespace(i);
      const host = `${link_prefix}${this.tag}n${i + 1}`;
      const inner = `${host}i`;
      ip(['netns', 'add', ns]);
      ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', inner]);
      ip(['link', 'set', inner, 'netns', ns]);
      ip(['link', 'set', host, 'master', bridge]);
      ip(['link', 'set', host, 'up']);
      ip(['-n', ns, 'addr', 'add', `${this.ipOf(i)}/24`, 'dev', inner]);
      ip(['-n', ns, 'link', 'set', inner, 'up']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  }

  /** The cluster placement: each node started through `ip netns exec` in its namespace. */
  placement(secret: string): Placement {
    return { addrs: this.addrs, secret, prefix: (addr) => ['ip', 'netns', 'exec', this.namespace(this.indexOf(addr))] };
  }

  /** Cut every node of `side_a` off from every node of `side_b`, both ways. */
  partition(side_a: readonly string[], side_b: readonly string[]): void {
    for (const a of side_a) {
      for (const b of side_b) {
        this.blackhole(a, b);
        this.blackhole(b, a);
      }
    }
  }

  heal(): void {
    for (const entry of this.blackholes) {
      const [ns, target] = entry.split(' ');
      if (ns !== undefined && target !== undefined) tryIp(['-n', ns, 'route', 'del', 'blackhole', `${target}/32`]);
    }
    this.blackholes.clear();
  }

  private blackhole(from: string, to: string): void {
    const ns = this.namespace(this.indexOf(from));
    const target = this.ipOf(this.indexOf(to));
    const entry = `${ns} ${target}`;
    if (this.blackholes.has(entry)) return;
    ip(['-n', ns, 'route', 'add', 'blackhole', `${target}/32`]);
    this.blackholes.add(entry);
  }

  destroy(): void {
    this.blackholes.clear();
    for (let i = 0; i < this.size; i += 1) tryIp(['netns', 'del', this.namespace(i)]);
    for (let i = 0; i < this.size; i += 1) tryIp(['link', 'del', `${link_prefix}${this.tag}n${i + 1}`]);
    tryIp(['link', 'del', this.bridge()]);
  }
}
