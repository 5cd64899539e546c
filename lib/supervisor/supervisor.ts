import { resolve } from 'node:path';
import { Piscina } from 'piscina';
import type { NodeLimits } from '../node/options.ts';
import { StartupError } from '../boot/options.ts';
import type { LogLevel } from '../boot/logger.ts';
import type { NodeSpec, NodeTask, NodeTaskResult } from './node-task.ts';
import { NodeSlot } from './node-slot.ts';
import { workerFile } from '../util/package-root.ts';
import { exposeGcToNewThreads, node_thread_resource_limits } from '../util/node-heap.ts';

/** Pause before a crashed node is started again. */
export const restart_delay_ms = 500;
/** How long `stop()` lets each node shut down cleanly before terminating its thread. */
export const node_stop_wait_ms = 5_000;
/** Effectively never: the pool has exactly one thread per node and must not shrink. */
const pool_idle_timeout_ms = 24 * 60 * 60 * 1_000;

const worker_file = workerFile('workers/node-worker');

export interface ClusterOptions {
  /** Number of nodes, each in its own worker thread. */
  readonly size: number;
  /** Host every node binds; default 127.0.0.1. */
  readonly host?: string;
  /** Port of the first node; node i listens on basePort + i. Default 8081. */
  readonly basePort?: number;
  /** Root data directory; each node keeps its files under `<dataDir>/<host>_<port>/`. Default ./data. */
  readonly dataDir?: string;
  /** Expose `POST /debug/failpoints` on every node. */
  readonly failpoints?: boolean;
  /** The cluster secret every node signs and checks requests with. */
  readonly secret?: string;
  /** Node limits (tests shorten heartbeats and timeouts). */
  readonly limits?: Partial<NodeLimits>;
  /** Where the supervisor reports crashes and restarts, one line each; default stderr. Nodes' log lines go there too. */
  readonly log?: (line: string) => void;
  /** Every node's log level (default: env TWOPC_LOG_LEVEL, else warn). */
  readonly logLevel?: LogLevel;
  /** Nodes write pretty log lines instead of JSON lines. */
  readonly logPretty?: boolean;
}

/** A running cluster in this process. */
export interface Cluster {
  /** `host:port` of every node, in port order. */
  readonly addrs: readonly string[];
  /** The absolute root data directory. */
  readonly dataDir: string;
  /** Terminates the node's thread (like `kill -9`); the supervisor restarts it after a short delay. */
  crash(addr: string): Promise<void>;
  /** How many times the node was restarted after ending unexpectedly. */
  restarts(addr: string): number;
  /** Stops every node cleanly (bounded), then the pool. Idempotent. */
  stop(): Promise<void>;
}

/** `host:(basePort + i)` for i in 0..size-1. */
export function clusterAddrs(host: string, basePort: number, size: number): readonly string[] {
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return Object.freeze(Array.from({ length: size }, (_, index) => `${bracketed}:${basePort + index}`));
}

/**
 * Starts `size` nodes, one long-running piscina task each, and resolves once all serve.
 * If any node cannot start the first time (busy port, unwritable data dir), the others are
 * stopped and this rejects with a `StartupError` naming the node.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const addrs = clusterAddrs(options.host ?? '127.0.0.1', options.basePort ?? 8081, options.size);
  const dataDir = resolve(options.dataDir ?? './data');
  const pool = createPool(options.size);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const slots = addrs.map(
    (addr) => new NodeSlot(pool, nodeSpec(addr, addrs, dataDir, options), { restart_delay_ms, log: (line) => log(`twopc cluster: ${line}`), print: log }),
  );
  const stop = stopOnce(slots, pool);
  const failure = await firstStartFailure(slots);
  if (failure !== undefined) {
    await stop();
    throw new StartupError(failure);
  }
  return {
    addrs,
    dataDir,
    crash: async (addr) => slotOf(slots, addr).crash(),
    restarts: (addr) => slotOf(slots, addr).restarts,
    stop,
  };
}

function createPool(size: number): Piscina<NodeTask, NodeTaskResult> {
  exposeGcToNewThreads();
  return new Piscina<NodeTask, NodeTaskResult>({
    filename: worker_file,
    minThreads: size,
    maxThreads: size,
    idleTimeout: pool_idle_timeout_ms,
    concurrentTasksPerWorker: 1,
    resourceLimits: node_thread_resource_limits,
  });
}

function nodeSpec(addr: string, addrs: readonly string[], dataDir: string, options: ClusterOptions): NodeSpec {
  return {
    addr,
    peers: addrs.filter((peer) => peer !== addr),
    dataDir,
    failpoints: options.failpoints ?? false,
    ...(options.limits !== undefined && { limits: options.limits }),
    ...(options.secret !== undefined && { secret: options.secret }),
    ...(options.logLevel !== undefined && { logLevel: options.logLevel }),
    ...(options.logPretty !== undefined && { logPretty: options.logPretty }),
  };
}

/** Starts every slot; the first failure's reason, or undefined when all serve. */
async function firstStartFailure(slots: readonly NodeSlot[]): Promise<string | undefined> {
  const results = await Promise.allSettled(slots.map((slot) => slot.start()));
  for (const [index, result] of results.entries()) {
    if (result.status === 'rejected') {
      const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
      return `node ${slots[index]?.addr ?? '?'} ${reason}`;
    }
  }
  return undefined;
}

function stopOnce(slots: readonly NodeSlot[], pool: Piscina<NodeTask, NodeTaskResult>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= Promise.all(slots.map((slot) => slot.stop(node_stop_wait_ms))).then(() => pool.destroy());
    return stopping;
  };
}

function slotOf(slots: readonly NodeSlot[], addr: string): NodeSlot {
  const slot = slots.find((candidate) => candidate.addr === addr);
  if (slot === undefined) throw new Error(`no node ${addr} in this cluster`);
  return slot;
}
