/**
 * A real cluster for one chaos run: every node is a standalone `twopc start-node` process
 * (optionally inside its own network namespace) with its own data directory under a fresh
 * temp dir. The harness can SIGKILL, SIGSTOP/SIGCONT and restart nodes; `stop` leaves no
 * process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeHttp, sleep } from './node-http.ts';

import { twopc_bin } from '../util/package-root.ts';

export { twopc_bin };

/** Where the nodes live: their addresses and, per node, a command prefix (`ip netns exec NS`). */
export interface Placement {
  readonly addrs: readonly string[];
  readonly prefix: (addr: string) => readonly string[];
  readonly secret?: string;
}

/** Every child and data dir of every chaos cluster alive in this process, for the last-resort cleanup. */
const live_children = new Set<ChildProcess>();
const live_data_dirs = new Set<string>();

/** SIGKILL every node process and remove every data dir (Ctrl-C, or exit after an error). */
export function abandonAllClusters(): void {
  for (const child of live_children) {
    try {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of live_data_dirs) rmSync(dir, { recursive: true, force: true });
  live_data_dirs.clear();
}

const node_output_kept_chars = 20_000;

export class ChaosCluster {
  private readonly processes = new Map<string, ChildProcess>();
  private readonly output = new Map<string, string>();
  private readonly paused = new Set<string>();
  readonly data_dir: string;
  readonly http: NodeHttp;

  constructor(readonly placement: Placement) {
    this.data_dir = mkdtempSync(join(tmpdir(), 'twopc-chaos-'));
    live_data_dirs.add(this.data_dir);
    this.http = new NodeHttp(placement.secret);
  }

  get addrs(): readonly string[] {
    return this.placement.addrs;
  }

  startAll(): void {
    for (const addr of this.addrs) this.spawnNode(addr);
  }

  spawnNode(addr: string): void {
    const peers = this.addrs.filter((other) => other !== addr);
    const [command, ...prefix] = [...this.placement.prefix(addr), process.execPath];
    const args = [...prefix, twopc_bin, 'start-node', '--addr', addr, '--peers', peers.join(','), '--data-dir', this.data_dir, '--failpoints'];
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('TWOPC_')) env[name] = value;
    env['TWOPC_LOG_LEVEL'] = 'warn';
    if (this.placement.secret !== undefined) env['TWOPC_SECRET'] = this.placement.secret;
    const child = spawn(command ?? process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    live_children.add(child);
    child.once('exit', () => live_children.delete(child));
    const earlier = this.output.get(addr);
    this.output.set(addr, earlier === undefined ? '' : `${earlier}\n--- restarted at ${new Date().toISOString()}\n`);
    const keep = (chunk: Buffer) => this.output.set(addr, ((this.output.get(addr) ?? '') + chunk.toString()).slice(-node_output_kept_chars));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.processes.set(addr, child);
    this.paused.delete(addr);
  }

  isRunning(addr: string): boolean {
    const child = this.processes.get(addr);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  running(): readonly string[] {
    return this.addrs.filter((addr) => this.isRunning(addr));
  }

  outputOf(addr: string): string {
    return this.output.get(addr) ?? '';
  }

  /** Wait (bounded) until a node's process has exited on its own, e.g. at a crash failpoint. */
  async waitForExit(addr: string, timeout_ms: number): Promise<boolean> {
    const deadline = Date.now() + timeout_ms;
    while (this.isRunning(addr) && Date.now() < deadline) await sleep(50);
    return !this.isRunning(addr);
  }

  /** Signal a node and wait until its process is gone. */
  async kill(addr: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.processes.get(addr);
    if (!child || !this.isRunning(addr)) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  pause(addr: string): void {
    if (!this.isRunning(addr)) return;
    this.processes.get(addr)?.kill('SIGSTOP');
    this.paused.add(addr);
  }

  resume(addr: string): void {
    if (!this.isRunning(addr)) return;
    this.processes.get(addr)?.kill('SIGCONT');
    this.paused.delete(addr);
  }

  isPaused(addr: string): boolean {
    return this.paused.has(addr);
  }

  /** Start a node that is not running (killed or crashed); its data dir is kept. */
  restart(addr: string): void {
    if (!this.isRunning(addr)) this.spawnNode(addr);
  }

  /** Resume and restart whatever a fault left paused or dead. */
  healProcesses(): void {
    for (const addr of this.addrs) {
      if (this.isPaused(addr)) this.resume(addr);
      if (!this.isRunning(addr)) this.restart(addr);
    }
  }

  /** The master every running node names, when they agree and it accepts writes. */
  async agreedMaster(): Promise<string | undefined> {
    const running = this.running();
    const roles = await Promise.all(running.map((addr) => this.http.get(addr, '/role', 1_000)));
    const masters = new Set<unknown>();
    for (const role of roles) {
      if (role.kind !== 'answer' || role.status !== 200) return undefined;
      masters.add(role.body.master);
    }
    const [master] = masters;
    if (masters.size !== 1 || typeof master !== 'string') return undefined;
    const view = roles.find((role) => role.kind === 'answer' && role.body.addr === master);
    return view?.kind === 'answer' && view.body.role === 'MASTER' && view.body.accepting_writes === true ? master : undefined;
  }

  /** Wait until every node is running and serving, agrees on one master, and that master counts all alive. */
  async waitForAgreement(timeout_ms: number): Promise<string> {
    const deadline = Date.now() + timeout_ms;
    while (Date.now() < deadline) {
      const master = await this.agreedMaster();
      if (master !== undefined && this.running().length === this.addrs.length) {
        const role = await this.http.get(master, '/role', 1_000);
        const healths = await Promise.all(this.addrs.map((addr) => this.http.get(addr, '/health', 1_000)));
        const all_alive = role.kind === 'answer' && this.addrs.every((addr) => role.body.nodes?.some((node: { addr: string; alive: boolean }) => node.addr === addr && node.alive));
        if (all_alive && healths.every((health) => health.kind === 'answer' && health.status === 200)) return master;
      }
      await sleep(100);
    }
    throw new Error(`the cluster did not agree on a master with every node serving within ${timeout_ms} ms${this.describeExits()}`);
  }

  /**
   * Quiescence: every node serving at the same last sequence. Returns false when that does
   * not happen within `timeout_ms`.
   */
  async waitForSameSequence(timeout_ms: number): Promise<boolean> {
    const deadline = Date.now() + timeout_ms;
    while (Date.now() < deadline) {
      const healths = await Promise.all(this.addrs.map((addr) => this.http.get(addr, '/health', 1_000)));
      const serving = healths.every((health) => health.kind === 'answer' && health.status === 200);
      const sequences = new Set(healths.map((health) => (health.kind === 'answer' ? health.body?.last_sequence : undefined)));
      if (serving && sequences.size === 1 && (await this.agreedMaster()) !== undefined) return true;
      await sleep(200);
    }
    return false;
  }

  /** Each node's /health answer in a few words, for a cluster that did not settle. */
  async describeHealth(): Promise<string> {
    const healths = await Promise.all(this.addrs.map(async (addr) => {
      const health = await this.http.get(addr, '/health', 1_000);
      if (health.kind !== 'answer') return `${addr} ${health.kind}`;
      const body = health.body ?? {};
      return `${addr} ${health.status} ${String(body.status)} ${String(body.role)} epoch ${String(body.epoch)} seq ${String(body.last_sequence)}/${String(body.max_sequence)} master ${String(body.master)}`;
    }));
    return healths.join('; ');
  }

  /** What the nodes that exited said, for a start-up failure. */
  describeExits(): string {
    const dead = this.addrs.filter((addr) => !this.isRunning(addr));
    return dead.map((addr) => `; ${addr} exited: ${this.outputOf(addr).trim().split('\n').slice(-3).join(' | ')}`).join('');
  }

  /** SIGCONT, then SIGTERM every node (SIGKILL after a grace period), and remove the data dir. */
  async stop(grace_ms = 3_000): Promise<void> {
    await Promise.all(
      this.addrs.map(async (addr) => {
        if (!this.isRunning(addr)) return;
        this.resume(addr);
        const timer = setTimeout(() => this.processes.get(addr)?.kill('SIGKILL'), grace_ms);
        await this.kill(addr, 'SIGTERM');
        clearTimeout(timer);
      }),
    );
    rmSync(this.data_dir, { recursive: true, force: true });
    live_data_dirs.delete(this.data_dir);
  }
}
