/**
 * Watches a chaos run from the outside: polls `GET /role` on every node and remembers, per
 * epoch, every node that said it was MASTER in it, and every epoch seen (failovers).
 */
import type { ChaosCluster } from './cluster.ts';
import { sleep } from './node-http.ts';

/** One node claiming mastership in one epoch. */
export interface MasterClaim {
  readonly epoch: number;
  readonly master: string;
  /** Who said so: the node itself (`/role`) or its persisted terms (`/cluster/terms`). */
  readonly source: string;
}

const poll_interval_ms = 100;
const poll_timeout_ms = 500;

export class RoleObserver {
  readonly claims = new Map<string, MasterClaim>();
  readonly epochs = new Set<number>();
  private stopping = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly cluster: ChaosCluster) {}

  start(): void {
    this.loop = this.poll();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  /** How many times the epoch moved on while we watched. */
  failovers(): number {
    return Math.max(0, this.epochs.size - 1);
  }

  private async poll(): Promise<void> {
    while (!this.stopping) {
      await Promise.all(this.cluster.addrs.map((addr) => this.observe(addr)));
      await sleep(poll_interval_ms);
    }
  }

  private async observe(addr: string): Promise<void> {
    if (!this.cluster.isRunning(addr) || this.cluster.isPaused(addr)) return;
    const role = await this.cluster.http.get(addr, '/role', poll_timeout_ms);
    if (role.kind !== 'answer' || role.status !== 200 || typeof role.body?.epoch !== 'number') return;
    const epoch: number = role.body.epoch;
    if (role.body.role === 'MASTER' && role.body.accepting_writes === true) {
      this.epochs.add(epoch);
      this.claims.set(`${epoch} ${addr}`, { epoch, master: addr, source: `${addr} /role` });
    }
  }
}
