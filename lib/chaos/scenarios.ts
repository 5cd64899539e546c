/**
 * The chaos scenarios: each names the faults it injects while the clients write. A scenario
 * declares its cluster size, whether it needs network namespaces, and what it needs from the
 * nodes (`prepare`, throwing ScenarioSkipped when something is missing); `inject` runs the
 * faults and leaves healing to the runner, which also heals whatever a scenario left broken.
 */
import { crashAt, currentMaster, killAndRestart, partitionFor, pauseFor, requireClockRoute, requireFailpoint, setClockOffset, setFailpoint, slavesOf, type FaultContext } from './faults.ts';
import { meddle } from './meddler.ts';
import { sleep } from './node-http.ts';
import type { ChaosCluster } from './cluster.ts';

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly size: number;
  readonly needs_netns: boolean;
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

/** A node's disk fails (every store write, as EIO or a full disk would) for a few seconds under load, then recovers. */
function sickDisk(name: string, description: string, failpoint: 'disk-write' | 'disk-full', on: 'master' | 'slave'): Scenario {
  return {
    name,
    description,
    size: 3,
    needs_netns: false,
    prepare: (cluster) => requireFailpoint(cluster, failpoint),
    inject: async (context) => {
      const master = await currentMaster(context);
      const target = on === 'master' ? master : context.random.pick(slavesOf(context, master));
      if (!(await setFailpoint(context.cluster, target, failpoint, 'abort'))) throw new Error(`could not arm ${failpoint} on ${target}`);
      context.fault(`${failpoint} on ${target}`);
      try {
        await sleep(context.random.int(2_000, 3_000));
      } finally {
        await setFailpoint(context.cluster, target, failpoint, 'off');
      }
      context.progress(`the disk of ${target} recovered`);
    },
  };
}

export const scenarios: readonly Scenario[] = [
  failpointCrash('participant-kill-before-prepare-persist', 'a slave crashes before it persists its prepare vote, then restarts', 'before-prepare-vote', 'slave'),
  failpointCrash('participant-kill-after-prepare-persist', 'a slave crashes right after persisting PREPARED, then restarts', 'after-prepare-persist', 'slave'),
  failpointCrash('master-kill-before-decision', 'the master crashes after collecting votes, before deciding', 'after-prepare-votes', 'master'),
  failpointCrash('master-kill-after-decision', 'the master crashes right after persisting its decision', 'after-decision-persist', 'master'),
  failpointCrash('master-kill-after-first-commit', 'the master crashes after the first participant applied the commit', 'after-first-commit', 'master'),
  sickDisk('disk-error', 'every store write of a slave fails (fsync EIO) for about 2.5 s, then the disk recovers', 'disk-write', 'slave'),
  sickDisk('disk-full', "the master's disk is full for about 2.5 s (it steps down), then has room again", 'disk-full', 'master'),
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
