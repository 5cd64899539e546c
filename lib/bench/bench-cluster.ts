/**
 * A fresh cluster of standalone node processes for one benchmark phase: free loopback
 * ports, a new temporary data directory, and helpers to find the master, kill a node and
 * bring it back. `stop()` ends every process and removes the directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnNode, type BenchProcess } from './processes.ts';
import { findFreePorts } from '../util/free-ports.ts';
import { call, waitUntil } from './http.ts';

/** How long a cluster may take to agree on a master with every node alive. */
export const cluster_ready_timeout_ms = 60_000;
/** Timeout of one probe (`/role`, `/health`) sent by the harness. */
export const probe_timeout_ms = 1_000;

export class BenchCluster {
  private readonly processes = new Map<string, BenchProcess>();

  private constructor(
    readonly addrs: readonly string[],
    readonly data_dir: string,
  ) {}

  /** Ports and directory only; start the nodes with `startAll`. */
  static async create(size: number, label: string): Promise<BenchCluster> {
    const ports = await findFreePorts(size);
    return new BenchCluster(
      ports.map((port) => `127.0.0.1:${port}`),
      mkdtempSync(join(tmpdir(), `twopc-bench-${label}-`)),
    );
  }

  /** Starts every node and waits until the master accepts writes and counts all alive. */
  async startAll(): Promise<void> {
    for (const addr of this.addrs) this.spawn(addr);
    await this.waitForAllAlive();
  }

  spawn(addr: string): void {
    this.processes.set(addr, spawnNode(addr, this.addrs, this.data_dir));
  }

  pidOf(addr: string): number | undefined {
    const child = this.processes.get(addr);
    return child?.running ? child.pid : undefined;
  }

  isRunning(addr: string): boolean {
    return this.processes.get(addr)?.running === true;
  }

  /** SIGKILL (or another signal, then SIGKILL after a grace period) and wait until gone; `spawn` brings it back. */
  async kill(addr: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.processes.get(addr);
    this.processes.delete(addr);
    await child?.stop(signal);
  }

  async waitForHealthy(addr: string, timeout_ms = cluster_ready_timeout_ms): Promise<void> {
    await waitUntil(`${addr} to answer /health with 200${this.exitNote(addr)}`, async () => {
      this.throwIfExited(addr);
      return (await call(addr, 'GET', '/health', undefined, probe_timeout_ms)).status === 200;
    }, timeout_ms, 20);
  }

  /** The master every running node names, once it accepts writes and counts every running node alive. */
  async waitForAllAlive(timeout_ms = cluster_ready_timeout_ms): Promise<string> {
    return waitUntil('one master with every node alive', async () => {
      for (const addr of this.addrs) this.throwIfExited(addr);
      const running = this.addrs.filter((addr) => this.isRunning(addr));
      const roles = await Promise.all(running.map((addr) => call(addr, 'GET', '/role', undefined, probe_timeout_ms)));
      const masters = new Set(roles.map((role) => (role.status === 200 ? role.body?.master : undefined)));
      const [master] = masters;
      if (masters.size !== 1 || typeof master !== 'string') return undefined;
      const view = roles.find((role) => role.body?.addr === master)?.body;
      if (view?.role !== 'MASTER' || view.accepting_writes !== true) return undefined;
      const alive = new Set((view.nodes as { addr: string; alive: boolean }[]).filter((node) => node.alive).map((node) => node.addr));
      return running.every((addr) => addr === master || alive.has(addr)) ? master : undefined;
    }, timeout_ms, 50);
  }

  /** The master named by the first running node that answers /role, or undefined. */
  async findMaster(): Promise<string | undefined> {
    for (const addr of this.addrs.filter((a) => this.isRunning(a))) {
      const role = await call(addr, 'GET', '/role', undefined, probe_timeout_ms);
      if (role.status === 200 && typeof role.body?.master === 'string') return role.body.master as string;
    }
    return undefined;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.values()].map((child) => child.stop('SIGTERM')));
    rmSync(this.data_dir, { recursive: true, force: true });
  }

  private throwIfExited(addr: string): void {
    const child = this.processes.get(addr);
    if (child !== undefined && !child.running) throw new Error(`node ${addr} exited: ${child.printed.trim().split('\n').slice(-12).join(' | ')}`);
  }

  private exitNote(addr: string): string {
    return this.isRunning(addr) ? '' : ' (its process exited)';
  }
}
