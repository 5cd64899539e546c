import test from 'ava';
import { decideOutcome, listDecisionRecipients, isInDoubtElsewhere, mayApplyLocally, nextSequence, summarizeVotes, type Ballot } from '../../lib/two-phase-commit/coordinator.ts';

const nodes = ['a:1', 'b:1', 'c:1'];
const ready = (addr: string): Ballot => ({ addr, response: { status: 'READY' } });

test('every participant READY decides COMMIT', (t) => {
  t.deepEqual(decideOutcome(nodes, nodes.map(ready)), { decision: 'COMMIT' });
});

test('one ABORT vote decides ABORT with its reason', (t) => {
  const ballots = [ready('a:1'), { addr: 'b:1', response: { status: 'ABORT', reason: 'conflict' } } as Ballot, ready('c:1')];
  t.deepEqual(decideOutcome(nodes, ballots), { decision: 'ABORT', reason: 'conflict' });
  t.deepEqual(summarizeVotes(ballots), { 'a:1': 'READY', 'b:1': 'ABORT: conflict', 'c:1': 'READY' });
});

test('a participant with no ballot at all decides ABORT', (t) => {
  t.deepEqual(decideOutcome(nodes, [ready('a:1'), ready('b:1')]), { decision: 'ABORT', reason: 'unreachable' });
});

// Found by the simulation (seed 80 of its second sweep): the participant that refused never
// remembered the abort, so a client's retry of the id under another master committed there.
test('a decision goes to every participant, the ones that refused included', (t) => {
  t.deepEqual(listDecisionRecipients(nodes), nodes);
});

// Found by the simulation (seed 199 of its second sweep): a retry under a new master joined a
// round still in doubt and committed the writes a second time at a new sequence.
test('a round meeting an id prepared by another round is in doubt, not decided', (t) => {
  const ballots: Ballot[] = [ready('a:1'), { addr: 'b:1', response: { status: 'ABORT', reason: 'in doubt' } }];
  t.true(isInDoubtElsewhere(ballots));
  t.false(isInDoubtElsewhere([ready('a:1'), { addr: 'b:1', response: { status: 'ABORT', reason: 'conflict' } }]));
});

test('sequences follow the highest known one', (t) => {
  t.is(nextSequence(0), 1);
  t.is(nextSequence(41), 42);
  t.throws(() => nextSequence(-1));
});

test('a round needs at least one participant', (t) => {
  t.throws(() => decideOutcome([], []));
});

test('the coordinator applies its own commit only after another participant did, or when alone', (t) => {
  t.false(mayApplyLocally({ remote_recipients: 2, remote_acks: 0 }));
  t.true(mayApplyLocally({ remote_recipients: 2, remote_acks: 1 }));
  t.true(mayApplyLocally({ remote_recipients: 0, remote_acks: 0 }));
});
