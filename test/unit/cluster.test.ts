import test from 'ava';
import { claimEpoch, electMaster, hasMajority, knownMasterOf } from '../../lib/cluster/election.ts';
import { initialStatus, recordAnswer, recordMiss, type PeerReport } from '../../lib/cluster/membership.ts';

test('the master is the lowest alive address by plain string comparison', (t) => {
  t.is(electMaster(['127.0.0.1:8083', '127.0.0.1:8081', '127.0.0.1:8082']), '127.0.0.1:8081');
  // string order, not numeric: "127.0.0.1:10000" < "127.0.0.1:9000"
  t.is(electMaster(['127.0.0.1:9000', '127.0.0.1:10000']), '127.0.0.1:10000');
  t.is(electMaster([]), undefined);
});

test('a master needs a strict majority of the membership', (t) => {
  t.true(hasMajority(2, 3));
  t.false(hasMajority(1, 3));
  t.false(hasMajority(2, 4));
  t.true(hasMajority(1, 1));
});

test('a new master claims an epoch above every epoch seen', (t) => {
  t.is(claimEpoch([3, 7, 5]), 8);
  t.is(claimEpoch([]), 1);
});

const report: PeerReport = { role: 'SLAVE', epoch: 1, phase: 'serving', last_sequence: 0, max_sequence: 0, master: undefined };

test('a peer is dead only after the miss limit, and alive again on its next serving answer', (t) => {
  let status = recordAnswer(initialStatus('b'), report, 1);
  t.true(status.alive);
  status = recordMiss(status, 3);
  status = recordMiss(status, 3);
  t.true(status.alive, 'two misses are tolerated');
  status = recordMiss(status, 3);
  t.false(status.alive);
  t.true(recordAnswer(status, report, 2).alive);
});

test('a peer still catching up is reachable but not alive: it does not vote yet', (t) => {
  const status = recordAnswer(initialStatus('b'), { ...report, phase: 'catching-up' }, 1);
  t.false(status.alive);
  t.true(status.reachable);
});

test('the master of an epoch is this node while it leads it, the candidate it granted it to, or a peer that reported leading it', (t) => {
  const none = { addr: 'b:2', term: undefined, granted: undefined, reported_masters: [] };
  t.is(knownMasterOf(4, { ...none, term: 4 }), 'b:2', 'its own term');
  t.is(knownMasterOf(4, { ...none, granted: { epoch: 4, candidate: 'a:1' } }), 'a:1', 'the candidate it granted the epoch to');
  t.is(knownMasterOf(4, { ...none, reported_masters: [{ addr: 'c:3', epoch: 4 }] }), 'c:3', "a peer's report of leading it");
  t.is(knownMasterOf(4, { ...none, reported_masters: [{ addr: 'c:3', epoch: 3 }] }), undefined, 'a report of another epoch names nobody');
  t.is(knownMasterOf(5, { ...none, granted: { epoch: 4, candidate: 'a:1' } }), undefined, 'a grant of another epoch names nobody');
});

test("a candidate's grant to itself, from a claim that lost, names no master: the winner's messages of that epoch are taken", (t) => {
  // b:2 claimed epoch 4 and granted it to itself; a:1 won epoch 4 from a:1 and c:3 first.
  const lost_claim = { addr: 'b:2', term: undefined, granted: { epoch: 4, candidate: 'b:2' }, reported_masters: [] };
  t.is(knownMasterOf(4, lost_claim), undefined);
  t.is(knownMasterOf(4, { ...lost_claim, reported_masters: [{ addr: 'a:1', epoch: 4 }] }), 'a:1');
  // The claim won: the grant and the term name this node.
  t.is(knownMasterOf(4, { ...lost_claim, term: 4 }), 'b:2');
});
