import test from 'ava';
import { claimEpoch, electMaster, hasMajority } from '../../lib/cluster/election.ts';
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
