/**
 * A real cluster for tests: every node is a separate `twopc start-node` process on
 * loopback with its own SQLite files, so a test can SIGKILL one and restart it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePorts } from './ports.ts';
import { request, waitFor } from './http.ts';

import { twopc_bin } from '../../lib/util/package-root.ts';

export { twopc_bin };

export interface ClusterOptions {
  readonly size: number;
  readonly failpoints?: boolean;
  /** Extra environment for every node process. */
  readonly env?: Readonly<Record<string, string>>;
  /** The cluster secret the nodes were given: the harness signs its own requests with it. */
  readonly secret?: string;
}

export class ProcessCluster {
  private readonly processes = new Map<string, ChildProcess>();
  readonly output = new Map<string, string>();

  private constructor(
    readonly addrs: readonly string[],
    readonly data_dir: string,
    private readonly options: ClusterOptions,
  ) {}

  static async start(options: ClusterOptions): Promise<ProcessCluster> {
    const ports = await findFreePorts(options.size);
    const cluster = new ProcessCluster(
      ports.map((port) => `127.0.0.1:${port}`),
      mkdtempSync(join(tmpdir(), 'twopc-test-')),
      options,
    );
    for (const addr of cluster.addrs) cluster.spawnNode(addr);
    try {
      await cluster.waitForAllAlive();
    } catch (error) {
      // Leave no process behind, and say what the nodes said.
      const said = cluster.addrs.map((addr) => `--- ${addr}${cluster.isRunning(addr) ? '' : ' (exited)'}\n${cluster.output.get(addr) ?? ''}`).join('\n');
      await cluster.stop();
      throw new Error(`${String(error)}\n${said}`);
    }
    return cluster;
  }

  spawnNode(addr: string): void {
    const peers = this.addrs.filter((other) => other !== addr);
    const args = [twopc_bin, 'start-node', '--addr', addr, ...(peers.length > 0 ? ['--peers', peers.join(',')] : []), '--data-dir', this.data_dir];
    if (this.options.failpoints) args.push('--failpoints');
    const child = spawn(process.execPath, args, { env: { ...process.env, TWOPC_LOG_LEVEL: 'warn', ...this.options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.output.set(addr, '');
    const keep = (chunk: Buffer) => this.output.set(addr, (this.output.get(addr) ?? '') + chunk.toString());
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.processes.set(addr, child);
  }

  /** SIGKILL one node and wait until its process is gone. */
  async kill(addr: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.processes.get(addr);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  /** Send a signal without waiting for anything (SIGSTOP / SIGCONT to pause and resume). */
  signal(addr: string, signal: NodeJS.Signals): void {
    this.processes.get(addr)?.kill(signal);
  }

  isRunning(addr: string): boolean {
    const child = this.processes.get(addr);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Start a killed node again and wait until it serves. */
  async restart(addr: string): Promise<void> {
    this.spawnNode(addr);
    await this.waitForHealthy(addr);
  }

  async waitForHealthy(addr: string, timeout_ms = 45_000): Promise<void> {
    await waitFor(`${addr} healthy`, async () => (await this.request(addr, 'GET', '/health', undefined, 1_000)).status === 200, timeout_ms);
  }

  /** Wait until the master accepts writes and counts every running node alive (a participant). */
  async waitForAllAlive(timeout_ms = 45_000): Promise<void> {
    await waitFor(
      'every node alive in the master\'s view',
      async () => {
        const master = await this.waitForMaster(timeout_ms);
        const role = await this.request(master, 'GET', '/role', undefined, 1_000);
        const running = this.addrs.filter((addr) => this.isRunning(addr));
        return running.every((addr) => role.body.nodes.some((node: { addr: string; alive: boolean }) => node.addr === addr && node.alive));
      },
      timeout_ms,
      100,
    );
  }

  /** Wait until every running node names the same master and that master accepts writes. */
  async waitForMaster(timeout_ms = 45_000): Promise<string> {
    const running = this.addrs.filter((addr) => this.isRunning(addr));
    return waitFor(
      'one agreed master',
      async () => {
        const roles = await Promise.all(running.map((addr) => this.request(addr, 'GET', '/role', undefined, 1_000)));
        const masters = new Set(roles.map((role) => role.body.master));
        if (masters.size !== 1) return undefined;
        const [master] = masters;
        if (typeof master !== 'string') return undefined;
        const view = roles.find((role) => role.body.addr === master)?.body;
        return view?.role === 'MASTER' && view.accepting_writes ? master : undefined;
      },
      timeout_ms,
      100,
    );
  }

  /** Submit a transaction to the master. */
  async submit(payload: unknown, transaction_id?: string): Promise<{ status: number; body: any }> {
    const master = await this.waitForMaster();
    return this.request(master, 'POST', '/transactions', transaction_id === undefined ? { payload } : { payload, transaction_id }, 15_000);
  }

  /** Every committed key on one node, in key order, paging through `/kv`. */
  async dump(addr: string): Promise<readonly { key: string; value: unknown; sequence: number }[]> {
    const items: { key: string; value: unknown; sequence: number }[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.request(addr, 'GET', `/kv?limit=1000${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`);
      items.push(...page.body.items);
      if (page.body.next === undefined) return items;
      after = page.body.next;
    }
  }

  /**
   * The consistency check after every fault: all running replicas reach the same last
   * sequence and hold identical data. Returns the agreed data.
   */
  async checkConsistent(timeout_ms = 20_000): Promise<readonly { key: string; value: unknown; sequence: number }[]> {
    const running = this.addrs.filter((addr) => this.isRunning(addr));
    await waitFor(
      'replicas at one sequence',
      async () => {
        const healths = await Promise.all(running.map((addr) => this.request(addr, 'GET', '/health', undefined, 1_000)));
        return healths.every((h) => h.status === 200) && new Set(healths.map((h) => h.body.last_sequence)).size === 1;
      },
      timeout_ms,
      100,
    );
    const dumps = await Promise.all(running.map((addr) => this.dump(addr)));
    const [first, ...rest] = dumps.map((dump) => JSON.stringify(dump));
    for (const [index, other] of rest.entries()) {
      if (other !== first) throw new Error(`replica ${running[index + 1]} differs from ${running[0]}`);
    }
    return dumps[0] ?? [];
  }

  /** Resume (in case a test paused it), ask it to stop, and SIGKILL it if it takes over 5 s. */
  private async stopOne(addr: string): Promise<void> {
    if (!this.isRunning(addr)) return;
    this.signal(addr, 'SIGCONT');
    const timer = setTimeout(() => this.signal(addr, 'SIGKILL'), 5_000);
    await this.kill(addr, 'SIGTERM');
    clearTimeout(timer);
  }

  /** A request from the harness, signed when the cluster has a secret. */
  request(addr: string, method: 'GET' | 'POST', path: string, body?: unknown, timeout_ms = 5_000): Promise<{ status: number; body: any }> {
    return request(addr, method, path, body, timeout_ms, this.options.secret);
  }

  async stop(): Promise<void> {
    await Promise.all(this.addrs.map((addr) => this.stopOne(addr)));
    rmSync(this.data_dir, { recursive: true, force: true });
  }
}
