/**
 * The second half of CI's 4,000-seed sweep of the simulation (lib/simulation), which runs the
 * node's real services. Two files, so ava runs the halves in parallel.
 */
import test from 'ava';
import { sweepSeeds } from '../../lib/simulation/runner.ts';
import { describeSweep, sweep_half_seed_count } from '../helpers/sweep.ts';

test('seeds 2001–4000 break no invariant and end with a master that accepts writes', async (t) => {
  // About a minute on an idle core; far longer on a shared, loaded machine.
  t.timeout(900_000);
  const report = describeSweep(await sweepSeeds(sweep_half_seed_count + 1, sweep_half_seed_count));
  t.true(report.acknowledged > sweep_half_seed_count * 3, 'the clients get commits through');
  t.true(report.crashes > sweep_half_seed_count, 'nodes crash');
  t.deepEqual(report.violations, []);
  t.deepEqual(report.without_master, []);
});
