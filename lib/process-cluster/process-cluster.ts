/**
 * A cluster of real node processes, the one launcher the tests, `twopc chaos` and
 * `twopc bench` share: N `twopc start-node` processes on free loopback ports (or given
 * addresses, e.g. inside network namespaces) with their data under one fresh temp dir. The
 * harness waits for health and an agreed master, SIGKILLs, pauses (SIGSTOP), resumes and
 * restarts nodes; `stop` ends every process and removes the data. `launch` starts a cluster
 * again on newly picked ports when a node finds its port taken at start-up (port-clash.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signRequest } from '../security/signature.ts';
import { findFreePorts } from '../util/free-ports.ts';
import { retryOnPortClash } from '../util/port-clash.ts';
import { twopc_bin } from '../util/package-root.ts';
import { node_heap_args, node_malloc_env } from '../util/node-heap.ts';
import { waitUntil } from '../util/wait-until.ts';
import { OwnedProcess } from './owned-process.ts';

/** How long a cluster, or one node, may take to be ready. */
export const cluster_ready_timeout_ms = 60_000;
/** Timeout of one probe (`/role`, `/health`) the harness sends. */
export const probe_timeout_ms = 1_000;
/** Pause between two probes while waiting. */
const probe_interval_ms = 50;
/** Pause between two `/health` probes of one node: finer, as bench times restarts with it. */
const health_interval_ms = 20;

export interface ProcessClusterOptions {
  /** Names the temp dir: `twopc-<label>-…`. */
  readonly label: string;
  /** Start the nodes with `--failpoints`. */
  readonly failpoints?: boolean;
  /** The cluster secret: handed to every node (TWOPC_SECRET), and the harness signs its probes with it. */
  readonly secret?: string;
  /** Extra environment for every node (TWOPC_* of this process is never inherited). */
  readonly env?: Readonly<Record<string, string>>;
  /** A command prefix per node, e.g. `ip netns exec NS` to run it inside a network namespace. */
  readonly prefix?: (addr: string) => readonly string[];
  /** How much of each node's output is kept, in characters (the tail). */
  readonly output_kept_chars?: number;
}

/** A probe's answer: status 0 when no answer came (refused, reset, timed out). */
interface ProbeAnswer {
  readonly status: number;
  readonly body: any;
}

/** Picks `count` consecutive free ports (default `findFreePorts`). */
export type PortPicker = (count: number) => Promise<readonly number[]>;

type ClusterClass<C extends ProcessCluster> = new (addrs: readonly string[], options: ProcessClusterOptions) => C;

/** `count` loopback addresses on ports `pick_ports` found free. */
async function pickLoopbackAddrs(count: number, pick_ports: PortPicker): Promise<readonly string[]> {
  return (await pick_ports(count)).map((port) => `127.0.0.1:${port}`);
}

/** Every data dir of a cluster still running in this process, for `abandonAllClusters`. */
const live_data_dirs = new Set<string>();

export class ProcessCluster {
  private readonly processes = new Map<string, OwnedProcess>();
  /** Each node's output over all its lives (the current one in `processes`), restarts marked. */
  private readonly earlier_output = new Map<string, string>();
  readonly data_dir: string;

  constructor(
    readonly addrs: readonly string[],
    readonly options: ProcessClusterOptions,
  ) {
    this.data_dir = mkdtempSync(join(tmpdir(), `twopc-${options.label}-`));
    live_data_dirs.add(this.data_dir);
  }

  /** `size` nodes on free loopback ports; nothing is started yet (see `startAll`). */
  static async create<C extends ProcessCluster>(this: ClusterClass<C>, size: number, options: ProcessClusterOptions): Promise<C> {
    return new this(await pickLoopbackAddrs(size, findFreePorts), options);
  }

  /**
   * `size` nodes on free loopback ports, started, with the master once it accepts writes and
   * counts every node alive. A node whose port was taken between the pick and its bind exits
   * loudly ("address already in use"); then the whole cluster is stopped and started again
   * on newly picked ports and a new data dir (`on_port_clash` hears of it), at most
   * `port_clash_attempts_max` starts in all. Any other failure is thrown at once.
   */
  static async launch<C extends ProcessCluster>(
    this: ClusterClass<C>,
    size: number,
    options: ProcessClusterOptions,
    on_port_clash?: (error: unknown, attempt: number) => void,
    pick_ports: PortPicker = findFreePorts,
  ): Promise<{ readonly cluster: C; readonly master: string }> {
    return retryOnPortClash(async () => {
      const cluster = new this(await pickLoopbackAddrs(size, pick_ports), options);
      const master = await cluster.startAndWait();
      return { cluster, master };
    }, on_port_clash);
  }

  /** Spawn every node that is not running; do not wait. */
  startAll(): void {
    for (const addr of this.addrs) this.spawnNode(addr);
  }

  /**
   * Start every node and wait until the master accepts writes and counts all alive. On
   * failure every process is stopped and the error carries what each node printed.
   */
  async startAndWait(timeout_ms = cluster_ready_timeout_ms): Promise<string> {
    this.startAll();
    try {
      return await this.waitForAllAlive(timeout_ms);
    } catch (error) {
      const said = this.addrs.map((addr) => `--- ${addr}${this.isRunning(addr) ? '' : ' (exited)'}\n${this.outputOf(addr)}`).join('\n');
      await this.stop();
      throw new Error(`${String(error)}\n${said}`);
    }
  }

  /** Start `twopc start-node` for `addr` unless it is running; its data dir is kept across lives. */
  spawnNode(addr: string): void {
    if (this.isRunning(addr)) return;
    const previous = this.processes.get(addr);
    if (previous !== undefined) this.earlier_output.set(addr, `${this.outputOf(addr)}\n--- restarted at ${new Date().toISOString()}\n`);
    const peers = this.addrs.filter((other) => other !== addr);
    const [command, ...prefix] = [...(this.options.prefix?.(addr) ?? []), process.execPath];
    const args = [...prefix, ...node_heap_args, twopc_bin, 'start-node', '--addr', addr, ...(peers.length > 0 ? ['--peers', peers.join(',')] : []), '--data-dir', this.data_dir];
    if (this.options.failpoints === true) args.push('--failpoints');
    this.processes.set(
      addr,
      new OwnedProcess({
        ...(command !== undefined && { command }),
        args,
        env: this.nodeEnv(),
        ...(this.options.output_kept_chars !== undefined && { output_kept_chars: this.options.output_kept_chars }),
      }),
    );
  }

  isRunning(addr: string): boolean {
    return this.processes.get(addr)?.running === true;
  }

  running(): readonly string[] {
    return this.addrs.filter((addr) => this.isRunning(addr));
  }

  /** The running node's pid (for RSS readings), or undefined. */
  pidOf(addr: string): number | undefined {
    const node = this.processes.get(addr);
    return node?.running === true ? node.pid : undefined;
  }

  /** What the node printed, over all its lives (the last `output_kept_chars` of each). */
  outputOf(addr: string): string {
    return (this.earlier_output.get(addr) ?? '') + (this.processes.get(addr)?.printed ?? '');
  }

  /** Signal a node (SIGTERM: SIGKILL after `grace_ms`) and wait until its process is gone. */
  async kill(addr: string, signal: NodeJS.Signals = 'SIGKILL', grace_ms = 5_000): Promise<void> {
    await this.processes.get(addr)?.stop(signal, grace_ms);
  }

  /** SIGSTOP: the node freezes with its sockets open, as a long GC pause or a stopped VM would. */
  pause(addr: string): void {
    this.processes.get(addr)?.pause();
  }

  /** SIGCONT a paused node. */
  resume(addr: string): void {
    this.processes.get(addr)?.resume();
  }

  isPaused(addr: string): boolean {
    return this.processes.get(addr)?.is_paused === true;
  }

  /** Start a node that is not running (killed or crashed) and wait until it serves. */
  async restart(addr: string, timeout_ms = cluster_ready_timeout_ms): Promise<void> {
    this.spawnNode(addr);
    await this.waitForHealthy(addr, timeout_ms);
  }

  /** Wait (bounded) until a node's process has exited on its own, e.g. at a crash failpoint. */
  async waitForExit(addr: string, timeout_ms: number): Promise<boolean> {
    await Promise.race([this.processes.get(addr)?.exited, new Promise((resolve) => setTimeout(resolve, timeout_ms).unref())]);
    return !this.isRunning(addr);
  }

  /** Wait until the node answers `/health` with 200; fails at once if its process exits. */
  async waitForHealthy(addr: string, timeout_ms = cluster_ready_timeout_ms): Promise<void> {
    await waitUntil(
      `${addr} to answer /health with 200`,
      async () => {
        this.throwIfExited(addr);
        return (await this.probe(addr, '/health')).status === 200;
      },
      timeout_ms,
      health_interval_ms,
    );
  }

  /** The master every running node names, when they agree and it accepts writes; else undefined. */
  async agreedMaster(): Promise<string | undefined> {
    const roles = await Promise.all(this.running().map((addr) => this.probe(addr, '/role')));
    if (roles.length === 0 || roles.some((role) => role.status !== 200)) return undefined;
    const masters = new Set<unknown>(roles.map((role) => role.body?.master));
    const [master] = masters;
    if (masters.size !== 1 || typeof master !== 'string') return undefined;
    const view = roles.find((role) => role.body?.addr === master)?.body;
    return view?.role === 'MASTER' && view.accepting_writes === true ? master : undefined;
  }

  /** Wait until every running node names the same master and that master accepts writes. */
  async waitForMaster(timeout_ms = cluster_ready_timeout_ms): Promise<string> {
    return waitUntil('one agreed master that accepts writes', () => this.agreedMaster(), timeout_ms, probe_interval_ms);
  }

  /**
   * Wait until the agreed master counts every running node alive (a participant), and
   * return it. Fails at once, with its output, if a node started and not stopped through
   * this cluster has exited.
   */
  async waitForAllAlive(timeout_ms = cluster_ready_timeout_ms): Promise<string> {
    return waitUntil(
      'one master with every running node alive',
      async () => {
        for (const addr of this.addrs) this.throwIfExited(addr);
        const master = await this.agreedMaster();
        if (master === undefined) return undefined;
        const role = await this.probe(master, '/role');
        const nodes: readonly { addr: string; alive: boolean }[] = Array.isArray(role.body?.nodes) ? role.body.nodes : [];
        const alive = new Set(nodes.filter((node) => node.alive).map((node) => node.addr));
        return this.running().every((addr) => addr === master || alive.has(addr)) ? master : undefined;
      },
      timeout_ms,
      probe_interval_ms,
    );
  }

  /** A GET from the harness (signed when the cluster has a secret); status 0 when no answer came. */
  async probe(addr: string, path: string, timeout_ms = probe_timeout_ms): Promise<ProbeAnswer> {
    const headers: Record<string, string> = this.options.secret === undefined ? {} : signRequest(this.options.secret, { method: 'GET', path, node: addr, body: '' }, Date.now());
    try {
      const response = await fetch(`http://${addr}${path}`, { headers, signal: AbortSignal.timeout(timeout_ms) });
      const text = await response.text();
      return { status: response.status, body: parseJson(text) };
    } catch {
      return { status: 0, body: undefined };
    }
  }

  /** Stop every node (resumed, SIGTERM, SIGKILL after `grace_ms`) and remove the data dir. */
  async stop(grace_ms = 5_000): Promise<void> {
    await Promise.all(this.addrs.map((addr) => this.kill(addr, 'SIGTERM', grace_ms)));
    rmSync(this.data_dir, { recursive: true, force: true });
    live_data_dirs.delete(this.data_dir);
  }

  /** Ours, without any TWOPC_* setting or NODE_EXTRA_CA_CERTS, node logs at warn, the secret, then `options.env`. */
  private nodeEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    // Without NODE_EXTRA_CA_CERTS, as the bin starts a node: Node 20 parses the file it names
    // at every start (50-70 ms of CPU here) and the nodes speak plain HTTP only.
    for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('TWOPC_') && name !== 'NODE_EXTRA_CA_CERTS') env[name] = value;
    env['TWOPC_LOG_LEVEL'] = 'warn';
    if (this.options.secret !== undefined) env['TWOPC_SECRET'] = this.options.secret;
    return { ...env, ...node_malloc_env, ...this.options.env };
  }

  /** A node that was started and not stopped through this cluster, but is gone: say what it printed. */
  private throwIfExited(addr: string): void {
    const node = this.processes.get(addr);
    if (node !== undefined && !node.running && !node.stopped) throw new Error(`node ${addr} exited: ${node.printed.trim().split('\n').slice(-12).join(' | ')}`);
  }
}

/** Remove the data dir of every cluster not stopped yet (a last-resort cleanup; the processes die with this one). */
export function removeAllClusterData(): void {
  for (const dir of live_data_dirs) rmSync(dir, { recursive: true, force: true });
  live_data_dirs.clear();
}

function parseJson(text: string): unknown {
  try {
    return text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}
