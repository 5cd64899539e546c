/**
 * The chaos scenarios: each names the faults it injects while the clients write. A scenario
 * declares its cluster size, whether it needs network namespaces, and what it needs from the
 * nodes (`prepare`, throwing ScenarioSkipped when something is missing); `inject` runs the
 * faults and leaves healing to the runner, which also heals whatever a scenario left broken.
 */
import { crashAt, currentMaster, killAndRestart, partitionFor, pauseFor, requireClockRoute, requireFailpoint, setClockOffset, setFailpoint, sickDiskFor, slavesOf, type DiskFault, type FaultContext } from './faults.ts';
import { meddle } from './meddler.ts';
import { sleep } from './node-http.ts';
import { fillUp, MountRefused, mountTmpfs, resizeTmpfs, tmpfs_growth_bytes, tmpfs_start_bytes, unmountTmpfs, usedBytes } from './tmpfs.ts';
import { resolveNodeDir } from '../storage/database.ts';
import type { ChaosCluster } from './cluster.ts';

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly size: number;
  readonly needs_netns: boolean;
  /** Before the nodes start (a file system under their data folders); may throw ScenarioSkipped. */
  readonly before_start?: (cluster: ChaosCluster) => void;
  readonly prepare: (cluster: ChaosCluster) => Promise<void>;
  readonly inject: (context: FaultContext) => Promise<void>;
}

const nothing_to_prepare = async (): Promise<void> => undefined;

function failpointCrash(name: string, description: string, failpoint: string, on: 'master' | 'slave'): Scenario {
  return {
    name,
    description,
    size: 3,
    needs_netns: false,
    prepare: (cluster) => requireFailpoint(cluster, failpoint),
    inject: async (context) => {
      const master = await currentMaster(context);
      const target = on === 'master' ? master : context.random.pick(slavesOf(context, master));
      await crashAt(context, target, failpoint);
    },
  };
}

/** How long a sick disk stays sick. */
const sick_disk_min_ms = 2_500;
const sick_disk_max_ms = 4_000;

/** The node whose disk a disk scenario makes sick: a slave on even runs, the master on odd ones. */
async function diskVictim(context: FaultContext): Promise<string> {
  const master = await currentMaster(context);
  return context.run_index % 2 === 0 ? context.random.pick(slavesOf(context, master)) : master;
}

/** Every store write of `addr` fails through a failpoint: `disk-write` as fsync EIO, `disk-full` as SQLITE_FULL. */
function failingWrites(context: FaultContext, addr: string, failpoint: 'disk-write' | 'disk-full'): DiskFault {
  const turn = async (action: 'abort' | 'off') => {
    if (!(await setFailpoint(context.cluster, addr, failpoint, action))) throw new Error(`could not turn ${failpoint} ${action} on ${addr}`);
  };
  return { what: `every store write failing (${failpoint}=abort)`, fail: () => turn('abort'), recover: () => turn('off') };
}

/** Each node's data folder a tmpfs of its own; where mount is refused, say why and mount none. */
function mountTmpfsPerNode(cluster: ChaosCluster): void {
  try {
    for (const addr of cluster.addrs) {
      const dir = resolveNodeDir(cluster.data_dir, addr);
      mountTmpfs(dir, tmpfs_start_bytes);
      cluster.mounts.push(dir);
    }
  } catch (error) {
    if (!(error instanceof MountRefused)) throw error;
    for (const dir of cluster.mounts.splice(0)) unmountTmpfs(dir);
    cluster.mount_refused = error.message;
  }
}

/** The tmpfs at `dir` fills up with a ballast file; it recovers by growing. */
function fullTmpfs(context: FaultContext, dir: string): DiskFault {
  return {
    what: `its ${tmpfs_start_bytes / 1024 / 1024} MiB tmpfs filled up (ENOSPC)`,
    fail: async () => context.progress(`a ballast of ${(fillUp(dir) / 1024 / 1024).toFixed(1)} MiB fills ${dir}`),
    recover: async () => resizeTmpfs(dir, usedBytes(dir) + tmpfs_growth_bytes),
  };
}

export const scenarios: readonly Scenario[] = [
  failpointCrash('participant-kill-before-prepare-persist', 'a slave crashes before it persists its prepare vote, then restarts', 'before-prepare-vote', 'slave'),
  failpointCrash('participant-kill-after-prepare-persist', 'a slave crashes right after persisting PREPARED, then restarts', 'after-prepare-persist', 'slave'),
  failpointCrash('master-kill-before-decision', 'the master crashes after collecting votes, before deciding', 'after-prepare-votes', 'master'),
  failpointCrash('master-kill-after-decision', 'the master crashes right after persisting its decision', 'after-decision-persist', 'master'),
  failpointCrash('master-kill-after-first-commit', 'the master crashes after the first participant applied the commit', 'after-first-commit', 'master'),
  {
    name: 'disk-error',
    description: "one node's store writes fail as fsync EIO for about 3 s (failpoint disk-write), then the disk recovers; a slave on even runs, the master on odd ones",
    size: 3,
    needs_netns: false,
    prepare: (cluster) => requireFailpoint(cluster, 'disk-write'),
    inject: async (context) => {
      const victim = await diskVictim(context);
      await sickDiskFor(context, victim, failingWrites(context, victim, 'disk-write'), context.random.int(sick_disk_min_ms, sick_disk_max_ms));
    },
  },
  {
    name: 'disk-full',
    description: "one node's disk is full for about 3 s, then has room again; a slave on even runs, the master on odd ones. Each data folder is a small tmpfs that fills up (ENOSPC) and then grows (remount); where mount is refused, failpoint disk-full",
    size: 3,
    needs_netns: false,
    before_start: mountTmpfsPerNode,
    prepare: async (cluster) => (cluster.mounts.length > 0 ? undefined : requireFailpoint(cluster, 'disk-full')),
    inject: async (context) => {
      const victim = await diskVictim(context);
      const dir = resolveNodeDir(context.cluster.data_dir, victim);
      const disk = context.cluster.mounts.includes(dir) ? fullTmpfs(context, dir) : failingWrites(context, victim, 'disk-full');
      if (context.cluster.mount_refused !== undefined) context.progress(`no tmpfs (${context.cluster.mount_refused}); failpoint disk-full instead`);
      await sickDiskFor(context, victim, disk, context.random.int(sick_disk_min_ms, sick_disk_max_ms));
    },
  },
  {
    name: 'master-sigkill',
    description: 'SIGKILL the master under load and restart it, twice',
    size: 3,
    needs_netns: false,
    prepare: nothing_to_prepare,
    inject: async (context) => {
      for (let round = 0; round < 2; round += 1) {
        await killAndRestart(context, await currentMaster(context));
        await sleep(context.random.int(300, 800));
      }
    },
  },
  {
    name: 'master-pause',
    description: 'SIGSTOP the master for about 2 s, then SIGCONT',
    size: 3,
    needs_netns: false,
    prepare: nothing_to_prepare,
    inject: async (context) => pauseFor(context, await currentMaster(context), context.random.int(1_500, 2_500)),
  },
  {
    name: 'participant-pause',
    description: 'SIGSTOP a slave for about 2 s while the others commit, then SIGCONT',
    size: 3,
    needs_netns: false,
    prepare: nothing_to_prepare,
    inject: async (context) => pauseFor(context, context.random.pick(slavesOf(context, await currentMaster(context))), context.random.int(1_500, 2_500)),
  },
  {
    name: 'partition-master',
    description: 'cut the master off from every other node for about 3 s (network namespaces)',
    size: 3,
    needs_netns: true,
    prepare: nothing_to_prepare,
    inject: async (context) => {
      const master = await currentMaster(context);
      await partitionFor(context, [master], slavesOf(context, master), context.random.int(2_500, 3_500));
    },
  },
  {
    name: 'partition-2-3',
    description: 'split 5 nodes 2/3; on even runs the master is on the side of 2 (network namespaces)',
    size: 5,
    needs_netns: true,
    prepare: nothing_to_prepare,
    inject: async (context) => {
      const master = await currentMaster(context);
      const others = [...slavesOf(context, master)];
      const shuffled = others.map((addr) => ({ addr, order: context.random.next() })).sort((a, b) => a.order - b.order).map((entry) => entry.addr);
      const with_master = [master, ...shuffled.slice(0, context.run_index % 2 === 0 ? 1 : 2)];
      const rest = context.cluster.addrs.filter((addr) => !with_master.includes(addr));
      await partitionFor(context, with_master, rest, context.random.int(2_500, 3_500));
    },
  },
  {
    name: 'duplicate-reorder',
    description: 'replay, contradict and delay decisions (duplicate, stale-epoch, late prepare); before-decision-send delayed 300 ms',
    size: 3,
    needs_netns: false,
    prepare: nothing_to_prepare,
    inject: async (context) => {
      const master = await currentMaster(context);
      const delayed = await setFailpoint(context.cluster, master, 'before-decision-send', 'delay:300');
      if (delayed) context.fault(`before-decision-send=delay:300 on ${master}`);
      else context.progress('the node does not offer before-decision-send; meddling without the delay');
      const sent_during = await meddle(context, Date.now() + context.random.int(2_000, 3_000));
      if (delayed) await setFailpoint(context.cluster, master, 'before-decision-send', 'off');
      const sent_after = await meddle(context, Date.now() + 1_500);
      context.fault(`sent ${sent_during + sent_after} meddling messages`, sent_during + sent_after);
    },
  },
  {
    name: 'clock-jump',
    description: "jump one node's wall clock 120 s ahead under load, later back",
    size: 3,
    needs_netns: false,
    prepare: requireClockRoute,
    inject: async (context) => {
      const target = context.random.pick(context.cluster.addrs);
      if (!(await setClockOffset(context.cluster, target, 120_000))) throw new Error(`could not jump the clock of ${target}`);
      context.fault(`clock of ${target} +120000 ms`);
      await sleep(context.random.int(2_000, 3_000));
      await setClockOffset(context.cluster, target, 0);
      context.progress(`clock of ${target} restored`);
    },
  },
];

export const scenario_names: readonly string[] = scenarios.map((scenario) => scenario.name);

export function findScenario(name: string): Scenario | undefined {
  return scenarios.find((scenario) => scenario.name === name);
}
