/**
 * A real cluster for tests: every node is a separate `twopc start-node` process on
 * loopback with its own SQLite files, so a test can SIGKILL one and restart it. The
 * launcher is lib/process-cluster (shared with chaos and bench); this adds what tests ask
 * of a cluster: submit, dump, and the consistency check.
 */
import { ProcessCluster as NodeProcessCluster } from '../../lib/process-cluster/process-cluster.ts';
import { request, waitFor } from './http.ts';

export { twopc_bin } from '../../lib/util/package-root.ts';

export interface ClusterOptions {
  readonly size: number;
  readonly failpoints?: boolean;
  /** Extra environment for every node process. */
  readonly env?: Readonly<Record<string, string>>;
  /** The cluster secret: every node is given it, and the harness signs its own requests with it. */
  readonly secret?: string;
  /** A command prefix per node (e.g. `prlimit --nofile=N`). */
  readonly prefix?: (addr: string) => readonly string[];
}

export class ProcessCluster extends NodeProcessCluster {
  /** Start `size` nodes on free ports in a temp dir and wait until all are alive (again on new ports if one was taken meanwhile). */
  static async start(options: ClusterOptions): Promise<ProcessCluster> {
    const { cluster } = await ProcessCluster.launch(options.size, {
      label: 'test',
      ...(options.failpoints !== undefined && { failpoints: options.failpoints }),
      ...(options.secret !== undefined && { secret: options.secret }),
      ...(options.env !== undefined && { env: options.env }),
      ...(options.prefix !== undefined && { prefix: options.prefix }),
    });
    return cluster;
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

  /** A request from the harness, signed when the cluster has a secret. */
  request(addr: string, method: 'GET' | 'POST', path: string, body?: unknown, timeout_ms = 5_000): Promise<{ status: number; body: any }> {
    return request(addr, method, path, body, timeout_ms, this.options.secret);
  }
}
