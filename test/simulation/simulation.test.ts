/**
 * The deterministic simulation (lib/simulation): a sweep of seeds over the real pure
 * protocol steps, replay determinism, and proof that the checker catches deliberately broken
 * variants. Seeds name runs of the current model: changing the model changes what a seed does.
 */
import test from 'ava';
import { runSimulation, type SimResult } from '../../lib/simulation/runner.ts';
import type { SimBugs } from '../../lib/simulation/options.ts';

/** Seeds in the sweep; about 5 ms each on one core, so the sweep takes some 10 s (more on a loaded machine). */
const sweep_seed_count = 2000;

/** Invariants no seed breaks today: these must hold across the whole sweep. */
// 'sequence-unique', 'replicas-identical' and 'acknowledged-is-durable' are left out while the
// fourth sweep's bug (seed 191, a failing test below) stands.
const holding_rules = [
  'one-master-per-epoch',
  'all-up',
  'nothing-prepared',
  'value-written-by-a-client',
  'kv-is-log-replay',
  'written-by-a-client',
  'one-answer',
  'all-or-nothing',
  'sequences-contiguous',
  'one-sequence-per-transaction',
  'acknowledged-sequence',
  'committed-has-sequence',
  'prepared-has-writes',
];

function sweep(count: number, bugs: Partial<SimBugs> = {}): readonly SimResult[] {
  return Array.from({ length: count }, (_, i) => runSimulation({ seed: i + 1, bugs }));
}

function firstViolation(results: readonly SimResult[], rules?: readonly string[]): string | undefined {
  for (const result of results) {
    const violation = result.violations.find((v) => rules === undefined || rules.includes(v.rule));
    if (violation) return `seed ${result.seed}: ${violation.rule}: ${violation.detail}`;
  }
  return undefined;
}

const baseline = sweep(sweep_seed_count);

test('a sweep of seeds keeps the invariants that hold today: one master an epoch, every node up, replicas equal to their log', (t) => {
  t.true(baseline.reduce((sum, r) => sum + r.stats.acknowledged, 0) > sweep_seed_count * 3, 'the clients get commits through');
  t.true(baseline.reduce((sum, r) => sum + r.stats.crashes, 0) > sweep_seed_count, 'nodes crash');
  t.is(firstViolation(baseline, holding_rules), undefined);
});

// Fails today: the fourth sweep (after the fixes of 9361a32) still finds the bug the
// `failing` regression test below names (seed 191). Drop `.failing` once it is fixed.
test.failing('a sweep of seeds breaks no invariant at all', (t) => {
  t.is(firstViolation(baseline), undefined);
});

test('the same seed replays the same run, event for event', (t) => {
  const first = runSimulation({ seed: 4242, trace: true });
  const second = runSimulation({ seed: 4242, trace: true });
  t.deepEqual(second.stats, first.stats);
  t.deepEqual(second.trace, first.trace);
  t.true((first.trace?.length ?? 0) > 100);
  t.notDeepEqual(runSimulation({ seed: 4243 }).stats, first.stats, 'another seed is another run');
});

test('the checker catches a participant that applies writes without a decision', (t) => {
  const results = sweep(10, { apply_on_prepare: true });
  t.true(results.every((r) => r.violations.some((v) => v.rule === 'replicas-identical' || v.rule === 'sequence-unique')));
});

test('the checker catches a master that leads without a majority of epoch grants', (t) => {
  t.is(firstViolation(baseline.slice(0, 150), ['one-master-per-epoch']), undefined);
  t.not(firstViolation(sweep(150, { skip_epoch_grants: true }), ['one-master-per-epoch']), undefined);
});

test('the checker catches crashes that lose PREPARED records', (t) => {
  const broken = sweep(150, { forget_prepared_on_crash: true });
  t.true(broken.filter((r) => !r.ok).length > baseline.slice(0, 150).filter((r) => !r.ok).length);
  t.not(firstViolation(broken, ['nothing-prepared', 'sequence-unique']), undefined);
});

// Regression tests for bugs the simulation found in the real orchestration and pure rules.
// The first sweep's four are fixed (lib/node/sequencer.ts, stepPrepare's 'already committed',
// finishCommittedElsewhere, termination asking every member), the second sweep's four too
// (e5a1265), the third sweep's too (9361a32); the fourth sweep's is `failing` until fixed.
// Seeds name runs of the current model: re-check them after a change.

test('a withdrawn COMMIT decision leaves no gap in the sequences (seed 2)', (t) => {
  const result = runSimulation({ seed: 2 });
  t.deepEqual(result.violations.filter((v) => v.rule === 'sequences-contiguous'), []);
});

test('a replica that missed a commit gets it although a sequence gap stalls applied_through (seed 19)', (t) => {
  const result = runSimulation({ seed: 19 });
  t.deepEqual(result.violations.filter((v) => v.rule === 'acknowledged-is-durable'), []);
});

test('a resubmitted transaction already committed is not committed again at a new sequence (seed 45)', (t) => {
  const result = runSimulation({ seed: 45 });
  t.deepEqual(result.violations.filter((v) => v.rule === 'one-sequence-per-transaction'), []);
});

test('presumed abort never aborts a transaction another master committed under the same id (seed 137)', (t) => {
  const result = runSimulation({ seed: 137 });
  t.deepEqual(result.violations.filter((v) => v.rule === 'all-or-nothing'), []);
});

test('a reservation withdrawn by a deposed master leaves no gap: the next master does not learn it as used (seed 69)', (t) => {
  const result = runSimulation({ seed: 69 });
  t.deepEqual(result.violations.filter((v) => v.rule === 'sequences-contiguous'), []);
});

test('an id aborted by a coordinator that voted ABORT itself is not committed by a retry while a replica holds it ABORTED (seed 80)', (t) => {
  const result = runSimulation({ seed: 80 });
  t.deepEqual(result.violations.filter((v) => v.rule === 'all-or-nothing' || v.rule === 'replicas-identical'), []);
});

test('a retried id still PREPARED from an earlier round that committed is not committed again at a new sequence (seed 199)', (t) => {
  const result = runSimulation({ seed: 199 });
  t.deepEqual(result.violations.filter((v) => v.rule === 'one-sequence-per-transaction'), []);
});

test('a master whose take-over catch-up failed does not hand out a sequence already used (seed 345)', (t) => {
  const result = runSimulation({ seed: 345 });
  t.deepEqual(result.violations.filter((v) => v.rule === 'sequence-unique'), []);
});

test('a new master does not take a deposed master\'s withdrawn reservation from its stale report as used (seed 223)', (t) => {
  const result = runSimulation({ seed: 223 });
  t.deepEqual(result.violations.filter((v) => v.rule === 'sequences-contiguous'), []);
});

test('a re-elected master does not reuse the sequence of its own unconfirmed COMMIT decision (seed 49)', (t) => {
  const result = runSimulation({ seed: 49 });
  t.deepEqual(result.violations.filter((v) => v.rule === 'sequence-unique'), []);
});

test('a coordinator that aborted an id only it prepared can catch up after a retry committed the id elsewhere (seed 141)', (t) => {
  const result = runSimulation({ seed: 141 });
  // A replica that cannot catch up never serves: it keeps the id PREPARED or lacks the commit.
  t.deepEqual(result.violations.filter((v) => ['all-or-nothing', 'replicas-identical', 'nothing-prepared', 'acknowledged-is-durable'].includes(v.rule)), []);
});

test('termination fences only the round\'s participants: a member outside the round does not abort a COMMIT (seed 207)', (t) => {
  const result = runSimulation({ seed: 207 });
  t.deepEqual(result.violations, []);
});

// A master's commit applied on one replica whose acknowledgement was lost stays unconfirmed;
// the master is deposed, and the new master, which cannot reach that replica, counts only
// applied sequences (9361a32) and hands the same sequence to another transaction.
test.failing('a new master does not reuse the sequence of a deposed master\'s unconfirmed COMMIT that an unreachable replica applied (seed 191)', (t) => {
  const result = runSimulation({ seed: 191 });
  t.deepEqual(result.violations.filter((v) => v.rule === 'sequence-unique' || v.rule === 'replicas-identical'), []);
});
