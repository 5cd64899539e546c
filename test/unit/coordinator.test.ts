import test from 'ava';
import { decideOutcome, listDecisionRecipients, mayApplyLocally, nextSequence, summarizeVotes, type Ballot } from '../../lib/two-phase-commit/coordinator.ts';

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

test('an ABORT is sent to everyone who may have prepared, including timed-out participants', (t) => {
  const ballots: Ballot[] = [
    ready('a:1'),
    { addr: 'b:1', response: { status: 'ABORT', reason: 'conflict' } },
    { addr: 'c:1', response: { status: 'ABORT', reason: 'prepare timeout' } },
  ];
  t.deepEqual(listDecisionRecipients({ decision: 'ABORT', reason: 'conflict' }, ballots, nodes), ['a:1', 'c:1']);
  t.deepEqual(listDecisionRecipients({ decision: 'COMMIT' }, nodes.map(ready), nodes), nodes);
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
