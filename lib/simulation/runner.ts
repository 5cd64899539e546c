/**
 * One simulated run from a seed: start the nodes and clients, inject faults (crashes with a
 * restart later, pauses, partitions both ways or one way, sick disks) while clients write,
 * then heal everything, stop new writes, let the cluster quiesce, and check the invariants.
 * Same seed, same run.
 */
import { checkQuiesced } from './checker.ts';
import { quiet_network, resolveOptions, type SimOverrides } from './options.ts';
import { ClientRecord, SimClient } from './client.ts';
import { simAddr, SimNode } from './machine.ts';
import { World, type Violation } from './world.ts';

/** Largest random delay before each node first starts. */
const start_stagger_max_ms = 50;

export type SimStats = Readonly<ReturnType<typeof countRun>>;

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  readonly stats: SimStats;
  readonly trace?: readonly string[];
}

export async function runSimulation(overrides: SimOverrides): Promise<SimResult> {
  const options = resolveOptions(overrides);
  const world = new World(options);
  const nodes = createNodes(world);
  const record = new ClientRecord();
  const addrs = nodes.map((node) => node.addr);
  const clients = Array.from({ length: options.client_count }, (_, i) => new SimClient(world, `client${i + 1}`, addrs, record));
  const faults = new FaultInjector(world, nodes);

  for (const node of nodes) world.schedule(world.random.int(0, start_stagger_max_ms), () => node.start());
  for (const client of clients) client.start();
  faults.start(options.fault_duration_ms);
  await world.runUntil(options.fault_duration_ms);

  world.note('quiesce: network healed, every node up, no new transactions');
  for (const client of clients) client.stop();
  faults.stop();
  await world.runUntil(options.fault_duration_ms + options.quiesce_duration_ms);
  return summarize(world, nodes, record, faults);
}

/** The cluster of a run: `node_count` nodes, each listening in the world; the first address is lowest. */
export function createNodes(world: World): readonly SimNode[] {
  const addrs = Array.from({ length: world.options.node_count }, (_, i) => simAddr(i + 1));
  return addrs.map((addr) => new SimNode(world, addr, addrs.filter((other) => other !== addr)));
}

/** Check the quiesced cluster and sum the run up. */
function summarize(world: World, nodes: readonly SimNode[], record: ClientRecord, faults: FaultInjector): SimResult {
  checkQuiesced(nodes, record, (rule, detail) => world.violate(rule, detail));
  const { violations } = world;
  return { seed: world.options.seed, ok: violations.length === 0, violations, stats: countRun(world, nodes, record, faults), ...(world.trace !== undefined && { trace: world.trace }) };
}

function countRun(world: World, nodes: readonly SimNode[], record: ClientRecord, faults: FaultInjector) {
  const highest_epoch = Math.max(0, ...nodes.map((node) => node.durable.epoch));
  return {
    events: world.events_run,
    simulated_ms: world.now_ms,
    submitted: record.submitted.size,
    acknowledged: record.acknowledged.size,
    aborted: record.refused.size,
    committed: Math.max(0, ...nodes.map((node) => node.durable.listCommitted().length)),
    crashes: faults.crashes,
    partitions: faults.partitions,
    messages_sent: world.network.stats.sent,
    messages_dropped: world.network.stats.dropped + world.network.stats.cut,
    highest_epoch,
    /** Whether, once quiesced, a serving master of the highest epoch accepts writes (liveness, not an invariant). */
    accepting_writes_at_end: nodes.some((node) => node.isAcceptingWrites() && node.node?.context.state.term === highest_epoch),
    /** A hash of every noted event: equal for equal runs. */
    trace_hash: world.hash,
  };
}

/** Crashes, pauses, partitions (both ways or one way), sick disks and heals at random while the faults last; after them, heal and restart everything. */
class FaultInjector {
  crashes = 0;
  partitions = 0;
  private active = true;

  constructor(
    private readonly world: World,
    private readonly nodes: readonly SimNode[],
  ) {}

  start(until_ms: number): void {
    const { random, options } = this.world;
    const delay_ms = random.int(Math.floor(options.fault_interval_mean_ms / 2), Math.floor((options.fault_interval_mean_ms * 3) / 2));
    if (this.world.now_ms + delay_ms >= until_ms) return;
    this.world.schedule(delay_ms, () => {
      if (!this.active) return;
      this.injectOne();
      this.start(until_ms);
    });
  }

  stop(): void {
    this.active = false;
    this.world.network.heal();
    this.world.network.setFaults(quiet_network);
    for (const node of this.nodes) node.disk_faults.heal();
    for (const node of this.nodes) if (!node.up) node.start();
  }

  private injectOne(): void {
    const { random, options, network } = this.world;
    const roll = random.next();
    const node = random.pick(this.nodes);
    if (roll < 0.05) {
      if (node.up) node.pause(random.int(100, options.pause_max_ms));
    } else if (roll < 0.4) {
      if (!node.up) return;
      node.crash();
      this.crashes += 1;
      this.world.schedule(random.int(options.restart_delay_min_ms, options.restart_delay_max_ms), () => {
        if (this.active && !node.up) node.start();
      });
    } else if (roll < 0.8) {
      const both_ways = roll < 0.65;
      const others = this.nodes.filter((other) => other !== node).map((other) => other.addr);
      const cut = both_ways ? others : random.sample(others, 1);
      this.partitions += 1;
      this.world.note(`partition ${node.addr} ${both_ways ? 'from all' : `one-way to ${cut.join(',')}`}`);
      for (const other of cut) network.cut(node.addr, other, both_ways);
      this.world.schedule(random.int(100, options.partition_duration_max_ms), () => {
        for (const other of cut) network.restore(node.addr, other);
      });
    } else if (roll < 0.9) {
      const fault = random.pick(['ENOSPC', 'EIO', 'slow-fsync'] as const);
      const duration_ms = random.int(100, options.disk_fault_duration_max_ms);
      const slow_extra_ms = fault === 'slow-fsync' ? random.int(50, options.slow_fsync_max_ms) : 0;
      node.failDisk(fault, duration_ms, slow_extra_ms);
    } else {
      this.world.note('heal');
      network.heal();
    }
  }
}

/**
 * Run seeds `from`..`from + count - 1` one after another with the same overrides. With
 * `stop_at_first_failure` it ends at the first seed that broke an invariant (a planted bug's
 * hunt). Returns every result.
 */
export async function sweepSeeds(from: number, count: number, overrides: Omit<SimOverrides, 'seed'> = {}, stop_at_first_failure = false): Promise<readonly SimResult[]> {
  const results: SimResult[] = [];
  for (let seed = from; seed < from + count; seed += 1) {
    const result = await runSimulation({ ...overrides, seed });
    results.push(result);
    if (stop_at_first_failure && !result.ok) break;
  }
  return results;
}
