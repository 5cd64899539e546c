/**
 * The deterministic simulation (lib/simulation), which runs the node's real services in a
 * simulated world: the same seed replays the same run, and every planted bug
 * (lib/node/planted-bugs.ts) is caught. The 4,000-seed sweep is in sweep-*.test.ts, and
 * scripted situations in scenarios.test.ts.
 */
import test from 'ava';
import { runSimulation, sweepSeeds } from '../../lib/simulation/runner.ts';
import { planted_bug_names } from '../../lib/node/planted-bugs.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Seeds a planted bug may take to be caught (each is caught within a few dozen today). */
const planted_bug_seed_budget = 300;

test('the same seed replays the same run, event for event', async (t) => {
  const first = await runSimulation({ seed: 4242, trace: true });
  const second = await runSimulation({ seed: 4242, trace: true });
  t.deepEqual(second.stats, first.stats);
  t.deepEqual(second.trace, first.trace);
  t.true((first.trace?.length ?? 0) > 100);
  t.notDeepEqual((await runSimulation({ seed: 4243 })).stats, first.stats, 'another seed is another run');
});

// The world stays deterministic only if nothing real takes part: the services reach time,
// timers and randomness through their seams, and the world has its own.
test('the services and the simulated world call no real clock, timer or randomness', (t) => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const real = /\b(Date\.now|new Date\(|performance\.now|setTimeout|setInterval|Math\.random|randomUUID)\b/;
  const offenders = ['lib/node', 'lib/two-phase-commit', 'lib/cluster', 'lib/simulation'].flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((name) => name.endsWith('.ts') && name !== 'main.ts')
      .flatMap((name) =>
        readFileSync(join(root, dir, name), 'utf8')
          .split('\n')
          .filter((line) => real.test(line) && !/^\s*(\*|\/\/)/.test(line))
          .map((line) => `${dir}/${name}: ${line.trim()}`),
      ),
  );
  t.deepEqual(offenders, []);
});

for (const bug of planted_bug_names) {
  test(`the simulation catches the planted bug ${bug}`, async (t) => {
    t.timeout(240_000);
    const results = await sweepSeeds(1, planted_bug_seed_budget, { bugs: { [bug]: true } }, true);
    const caught = results.at(-1);
    t.false(caught?.ok ?? true, `no violation in ${results.length} seeds`);
    t.log(`caught at seed ${caught?.seed}: ${caught?.violations[0]?.rule}`);
  });
}

// Situations earlier sweeps of the old model (a copy of the services) found, each named by the
// seed that showed it then. Those seeds no longer replay those situations (the simulation now
// runs the real services, and a seed names a run of the current code), so each row is only one
// more seed checked for its rules until it is rewritten as a scripted scenario
// (scenarios.test.ts), as seeds 2, 19, 45, 49, 69, 141, 191, 207, 223, 345, 382, 2378 and 2746 were.
const seed_regressions: readonly { readonly seed: number; readonly situation: string; readonly rules?: readonly string[] }[] = [
  { seed: 137, situation: 'presumed abort never aborts a transaction another master committed under the same id', rules: ['all-or-nothing'] },
  { seed: 80, situation: 'an id aborted by a coordinator that voted ABORT itself is not committed by a retry while a replica holds it ABORTED', rules: ['all-or-nothing', 'replicas-identical'] },
  { seed: 199, situation: 'a retried id still PREPARED from an earlier round that committed is not committed again at a new sequence', rules: ['one-sequence-per-transaction'] },
  { seed: 4586, situation: 'a new master learns the sequences applied by the replicas that granted its epoch, not only from health reports' },
  { seed: 6428, situation: 'a withdrawn COMMIT decision is never applied by a participant that heard of it earlier (views mask unconfirmed commits)' },
  { seed: 507, situation: 'a take-over does not leave a hole where a concurrent reconcile pass withdraws a decision' },
  { seed: 781, situation: 'a take-over does not re-drive a decision its own fence already aborted on a participant' },
  { seed: 9701, situation: "a take-over does not withdraw a COMMIT whose sequence only an unreachable participant's stale report shows applied" },
];

for (const { seed, situation, rules } of seed_regressions) {
  test(`${situation} (seed ${seed})`, async (t) => {
    const result = await runSimulation({ seed });
    t.deepEqual(result.violations.filter((v) => rules === undefined || rules.includes(v.rule)), []);
  });
}
