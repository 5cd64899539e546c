/**
 * Decisions owed to one participant split into messages it accepts (issue 14 item 1):
 * at most `max` decisions each, commits first, nothing lost or repeated.
 */
import test from 'ava';
import { groupSameDecisions, splitDecisions } from '../../lib/two-phase-commit/decision-batches.ts';

const commits = (n: number) => Array.from({ length: n }, (_, index) => ({ transaction_id: `c${index}`, sequence: index + 1 }));
const aborts = (n: number) => Array.from({ length: n }, (_, index) => `a${index}`);

const table = [
  { owed: { commits: [], aborts: [] }, max: 1024, sizes: [] },
  { owed: { commits: commits(1), aborts: aborts(1024) }, max: 1024, sizes: [[1, 1023], [0, 1]] },
  { owed: { commits: commits(1), aborts: aborts(1100) }, max: 1024, sizes: [[1, 1023], [0, 77]] },
  { owed: { commits: commits(5), aborts: aborts(2) }, max: 3, sizes: [[3, 0], [2, 1], [0, 1]] },
] as const;

for (const { owed, max, sizes } of table) {
  test(`${owed.commits.length} commits and ${owed.aborts.length} aborts in batches of ${max}: ${JSON.stringify(sizes)}`, (t) => {
    const batches = splitDecisions(owed, max);
    t.deepEqual(batches.map((batch) => [batch.commits.length, batch.aborts.length]), sizes.map((size) => [...size]));
    t.deepEqual(batches.flatMap((batch) => batch.commits), [...owed.commits], 'every commit once, in order');
    t.deepEqual(batches.flatMap((batch) => batch.aborts), [...owed.aborts], 'every abort once, in order');
  });
}

test('participants owed the very same decisions share one message; any difference in ids, sequences, order or aborts keeps them apart', (t) => {
  const owed = new Map([
    ['n2', { commits: commits(3), aborts: aborts(1) }],
    ['n3', { commits: commits(3), aborts: aborts(1) }],
    ['n4', { commits: commits(3).reverse(), aborts: aborts(1) }],
    ['n5', { commits: commits(3).map((commit) => ({ ...commit, sequence: commit.sequence + 1 })), aborts: aborts(1) }],
    ['n6', { commits: commits(3), aborts: [] }],
    ['n7', { commits: commits(3), aborts: ['other'] }],
    ['n8', { commits: commits(3), aborts: aborts(1) }],
  ]);
  const groups = groupSameDecisions(owed);
  t.deepEqual(
    groups.map(({ addrs }) => addrs),
    [['n2', 'n3', 'n8'], ['n4'], ['n5'], ['n6'], ['n7']],
  );
  for (const { addrs, owed: shared } of groups) t.true(shared === owed.get(addrs[0]!), 'the first member\'s decisions stand for the group');
  t.deepEqual(groupSameDecisions(new Map()), []);
});
