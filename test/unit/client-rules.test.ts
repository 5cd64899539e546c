/**
 * The client's pure rules, table-driven: what a transaction's views add up to, when a node's
 * own member list shows it cut off from the majority, and what start-master warns about.
 */
import test from 'ava';
import { reachesMajority, type RoleAnswer } from '../../lib/client/role.ts';
import { summarizeViews, type TransactionOutcome } from '../../lib/client/transaction.ts';
import { joinWarnings } from '../../lib/cli/start-master.ts';
import type { RoleProbe } from '../../lib/client/role.ts';

test('a transaction adds up to COMMITTED, ABORTED, PENDING or UNKNOWN', (t) => {
  const table: readonly (readonly [readonly string[], TransactionOutcome])[] = [
    [['COMMITTED', 'PREPARED', 'down'], 'COMMITTED'],
    [['ABORTED', 'PREPARED', 'UNKNOWN'], 'ABORTED'],
    [['PREPARED', 'PREPARED', 'down'], 'PENDING'],
    [['INIT', 'UNKNOWN', 'UNKNOWN'], 'PENDING'],
    [['UNKNOWN', 'UNKNOWN', 'down'], 'UNKNOWN'],
    [['UNKNOWN', 'error', 'UNKNOWN'], 'UNKNOWN'],
  ];
  for (const [states, outcome] of table) t.is(summarizeViews(states.map((state) => ({ state }))), outcome, states.join(','));
});

const role = (addr: string, alive: readonly boolean[]): RoleAnswer => ({
  addr,
  role: 'SLAVE',
  nodes: alive.map((is_alive, index) => ({ addr: index === 0 ? addr : `127.0.0.1:${9000 + index}`, alive: is_alive })),
});

test('a node reaches a majority when it and the peers it counts alive are more than half the membership', (t) => {
  t.true(reachesMajority(role('a:1', [false, true, false])), '2 of 3 (itself counted)');
  t.false(reachesMajority(role('a:1', [false, false])), '1 of 2');
  t.false(reachesMajority(role('a:1', [true, false, false, true])), '2 of 4 is not more than half');
  t.true(reachesMajority({ addr: 'a:1', role: 'SLAVE' }), 'no member list: not known to be cut off');
});

test('start-master warns about two nodes and about nodes that took writes as a cluster of one', (t) => {
  const probe = (addr: string, members: readonly string[], last_sequence: number): RoleProbe => ({
    kind: 'answered',
    addr,
    role: { addr, role: 'MASTER', last_sequence, nodes: members.map((member) => ({ addr: member, alive: true })) },
  });
  t.deepEqual(joinWarnings(['a:1', 'b:2', 'c:3'], [probe('a:1', ['a:1'], 0), probe('b:2', ['b:2'], 0), probe('c:3', ['c:3'], 0)]), []);
  const two = joinWarnings(['a:1', 'b:2'], [probe('a:1', ['a:1'], 0), probe('b:2', ['b:2'], 0)]);
  t.is(two.length, 1);
  t.regex(two[0] ?? '', /two nodes tolerate no failure/);
  const took = joinWarnings(['a:1', 'b:2', 'c:3'], [probe('a:1', ['a:1'], 3), probe('b:2', ['b:2'], 1), probe('c:3', ['a:1', 'c:3'], 5)]);
  t.is(took.length, 1);
  t.regex(took[0] ?? '', /^a:1 \(3 commits\), b:2 \(1 commit\) already took writes as a cluster of one/);
  t.deepEqual(joinWarnings(['a:1'], [probe('a:1', ['a:1'], 7)]), [], 'joining one node to nothing merges nothing');
});
