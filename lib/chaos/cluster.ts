/**
 * A real cluster for one chaos run: the shared launcher (lib/process-cluster), every node a
 * standalone `twopc start-node --failpoints` process (optionally inside its own network
 * namespace) under a fresh temp dir, plus what chaos asks of it: agreement with every node
 * serving, quiescence, and a few words on each node when it does not settle.
 */
import { killAllOwned } from '../process-cluster/owned-process.ts';
import { ProcessCluster, removeAllClusterData } from '../process-cluster/process-cluster.ts';
import { NodeHttp, sleep } from './node-http.ts';
import { unmountAllTmpfs, unmountTmpfs } from './tmpfs.ts';

/** Where the nodes live: their addresses and, per node, a command prefix (`ip netns exec NS`). */
export interface Placement {
  readonly addrs: readonly string[];
  readonly prefix: (addr: string) => readonly string[];
  readonly secret?: string;
}

/** SIGKILL every node process and remove every data dir (Ctrl-C, or exit after an error). */
export function abandonAllClusters(): void {
  killAllOwned();
  unmountAllTmpfs();
  removeAllClusterData();
}

const node_output_kept_chars = 20_000;

export class ChaosCluster extends ProcessCluster {
  readonly http: NodeHttp;
  /** Folders a scenario mounted a file system on (lib/chaos/tmpfs.ts): unmounted once the nodes are gone. */
  readonly mounts: string[] = [];
  /** Why no file system could be mounted, when a scenario tried and was refused. */
  mount_refused: string | undefined;

  constructor(readonly placement: Placement) {
    super(placement.addrs, {
      label: 'chaos',
      failpoints: true,
      prefix: placement.prefix,
      output_kept_chars: node_output_kept_chars,
      ...(placement.secret !== undefined && { secret: placement.secret }),
    });
    this.http = new NodeHttp(placement.secret);
  }

  /** Stop every node, unmount what a scenario mounted, then remove the data dir. */
  override async stop(grace_ms = 5_000): Promise<void> {
    await Promise.all(this.addrs.map((addr) => this.kill(addr, 'SIGTERM', grace_ms)));
    for (const dir of this.mounts.splice(0)) unmountTmpfs(dir);
    await super.stop(grace_ms);
  }

  /** Resume and restart whatever a fault left paused or dead. */
  healProcesses(): void {
    for (const addr of this.addrs) {
      if (this.isPaused(addr)) this.resume(addr);
      if (!this.isRunning(addr)) this.spawnNode(addr);
    }
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
}
