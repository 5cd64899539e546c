/**
 * Batched termination (lib/two-phase-commit/in-doubt-batch.ts): who is asked about what in one
 * round of questions, how each transaction of a batch is judged on what the batch heard, and
 * what the batch writes together. Table-driven, pure.
 */
import test from 'ava';
import type { TransactionView } from '../../lib/protocol/messages.ts';
import { inBatches, judgeBatch, listFenced, planFences, planQuestions, splitResolutions, type InDoubtRecord } from '../../lib/two-phase-commit/in-doubt-batch.ts';

const self = 'n1:1';
const members = ['n1:1', 'n2:1', 'n3:1'];

function view(id: string, state: TransactionView['state'], extra: Partial<TransactionView> = {}): TransactionView {
  return { transaction_id: id, state, since: 0, ...extra };
}

test('one question per peer: every member about every transaction, a participant outside the membership about its own only', (t) => {
  const records: InDoubtRecord[] = [
    { id: 'a', coordinator: 'n2:1', participants: ['n1:1', 'n2:1', 'n3:1'] },
    { id: 'b', coordinator: 'n2:1', participants: ['n1:1', 'n2:1', 'gone:1'] },
    { id: 'c' },
  ];
  const questions = planQuestions(records, members, self);
  t.deepEqual(Object.fromEntries(questions), { 'n2:1': ['a', 'b', 'c'], 'n3:1': ['a', 'b', 'c'], 'gone:1': ['b'] });
  t.false(questions.has(self), 'this node is never asked over the network');
});

const judge_cases: ReadonlyArray<{
  readonly name: string;
  readonly record: InDoubtRecord;
  readonly n2: TransactionView | undefined;
  readonly n3: TransactionView | undefined;
  readonly expected: string;
}> = [
  { name: 'a peer committed it', record: { id: 'x', coordinator: 'n2:1', participants: members }, n2: view('x', 'COMMITTED', { sequence: 7 }), n3: view('x', 'PREPARED'), expected: 'commit 7' },
  { name: 'the coordinator decided COMMIT', record: { id: 'x', coordinator: 'n2:1', participants: members }, n2: view('x', 'PREPARED', { decision: 'COMMIT', sequence: 9 }), n3: undefined, expected: 'commit 9' },
  { name: 'a peer aborted it', record: { id: 'x', coordinator: 'n2:1', participants: members }, n2: view('x', 'ABORTED'), n3: view('x', 'PREPARED'), expected: 'abort' },
  { name: 'a participant never prepared it', record: { id: 'x', coordinator: 'n2:1', participants: members }, n2: view('x', 'PREPARED'), n3: view('x', 'UNKNOWN'), expected: 'fence n3:1' },
  { name: 'the coordinator is silent', record: { id: 'x', coordinator: 'n2:1', participants: members }, n2: undefined, n3: view('x', 'PREPARED'), expected: 'wait' },
  { name: 'the coordinator forgot the round and everyone answered', record: { id: 'x', coordinator: 'n2:1', participants: members }, n2: view('x', 'PREPARED'), n3: view('x', 'PREPARED'), expected: 'abort' },
];

for (const row of judge_cases) {
  test(`in a batch, each transaction is judged on its own: ${row.name}`, (t) => {
    // The same transaction beside others whose answers must not leak into its verdict.
    const other: InDoubtRecord = { id: 'other', coordinator: 'n2:1', participants: members };
    const answers = new Map([
      ['n2:1', row.n2 === undefined ? new Map([['other', view('other', 'ABORTED')]]) : new Map([[row.record.id, row.n2], ['other', view('other', 'ABORTED')]])],
      ['n3:1', row.n3 === undefined ? undefined : new Map([[row.record.id, row.n3], ['other', view('other', 'PREPARED')]])],
    ]);
    const own = new Map([[row.record.id, view(row.record.id, 'PREPARED')], ['other', view('other', 'PREPARED')]]);
    const judged = judgeBatch([row.record, other], own, answers, members, self);
    const [mine, theirs] = judged;
    const said = mine === undefined ? 'none' : mine.resolution.kind === 'commit' ? `commit ${mine.resolution.sequence}` : mine.resolution.kind === 'fence' ? `fence ${mine.resolution.addrs.join(',')}` : mine.resolution.kind;
    t.is(said, row.expected);
    t.is(theirs?.resolution.kind, 'abort');
  });
}

test('a batch writes its commits and aborts together and leaves fences and waits apart', (t) => {
  const outcome = splitResolutions([
    { id: 'c1', resolution: { kind: 'commit', sequence: 3 } },
    { id: 'a1', resolution: { kind: 'abort' } },
    { id: 'f1', resolution: { kind: 'fence', addrs: ['n3:1'] } },
    { id: 'w1', resolution: { kind: 'wait', reason: 'coordinator unreachable' } },
    { id: 'c2', resolution: { kind: 'commit', sequence: 4 } },
  ]);
  t.deepEqual(outcome, {
    commits: [
      { transaction_id: 'c1', sequence: 3 },
      { transaction_id: 'c2', sequence: 4 },
    ],
    aborts: ['a1'],
    fences: [{ id: 'f1', addrs: ['n3:1'] }],
    waits: [{ id: 'w1', reason: 'coordinator unreachable' }],
  });
});

test('batches keep order and hold at most their size', (t) => {
  const items = Array.from({ length: 2_500 }, (_, i) => i);
  const batches = inBatches(items, 1_024);
  t.deepEqual(batches.map((batch) => batch.length), [1_024, 1_024, 452]);
  t.deepEqual(batches.flat(), items);
  t.deepEqual(inBatches([], 1_024), []);
});

test('fences go out as one message per participant, and only a fence every participant acknowledged aborts here', (t) => {
  const fences = [
    { id: 'f1', addrs: ['n2:1', 'n3:1'] },
    { id: 'f2', addrs: ['n2:1'] },
    { id: 'f3', addrs: ['n3:1'] },
  ];
  t.deepEqual(Object.fromEntries(planFences(fences)), { 'n2:1': ['f1', 'f2'], 'n3:1': ['f1', 'f3'] });
  const acknowledged = new Map([
    ['n2:1', new Set(['f1', 'f2'])],
    ['n3:1', new Set(['f3'])],
  ]);
  t.deepEqual(listFenced(fences, acknowledged), ['f2', 'f3'], 'f1 waits: n3 did not acknowledge it');
  t.deepEqual(listFenced(fences, new Map()), [], 'nobody answered: nothing aborts');
});
