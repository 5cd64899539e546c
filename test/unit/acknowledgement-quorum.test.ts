/** When a commit is safely known (lib/two-phase-commit/acknowledgement-quorum.ts), table-driven. */
import test from 'ava';
import { completesQuorum, countAcksNeeded, mayApplyLocally } from '../../lib/two-phase-commit/acknowledgement-quorum.ts';

const acks_table: readonly [remote_participants: number, members: number, needed: number][] = [
  [2, 3, 2],
  [1, 3, 1],
  [0, 1, 0],
  [4, 5, 3],
  [2, 5, 2],
  [3, 4, 2],
  [0, 3, 0],
];

test('each commit of a run needs enough remote acknowledgements that every majority includes one, or all remote participants if fewer', (t) => {
  for (const [remote, members, needed] of acks_table) t.is(countAcksNeeded(remote, members), needed, `${remote} remote of ${members} members`);
});

test('the acknowledgement that reaches the quorum, and only that one, confirms the commit', (t) => {
  t.false(completesQuorum(1, 2));
  t.true(completesQuorum(2, 2));
  t.false(completesQuorum(3, 2), 'a late acknowledgement does not confirm the commit twice');
});

test('the coordinator applies its own commit only after another participant did, or when alone', (t) => {
  t.false(mayApplyLocally({ remote_recipients: 2, remote_acks: 0 }));
  t.true(mayApplyLocally({ remote_recipients: 2, remote_acks: 1 }));
  t.true(mayApplyLocally({ remote_recipients: 0, remote_acks: 0 }));
});
