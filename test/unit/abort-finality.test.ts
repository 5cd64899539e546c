/**
 * When an ABORT is the client's answer (lib/two-phase-commit/abort-finality.ts, issue 14
 * item 13): only once a majority remembers it, since every later round of the id runs on a
 * majority and one of them then votes 'aborted earlier'.
 */
import test from 'ava';
import { isAbortFinal, judgeAbortedEarlier, type AbortedEarlierAnswer, type MemberAnswer } from '../../lib/two-phase-commit/abort-finality.ts';
import type { TransactionState } from '../../lib/protocol/states.ts';

test('an abort is final once a strict majority of the membership remembers it', (t) => {
  t.true(isAbortFinal(1, 1));
  t.false(isAbortFinal(1, 3), 'only the coordinator that decided it: a later master may commit a retry');
  t.true(isAbortFinal(2, 3));
  t.false(isAbortFinal(2, 4));
  t.true(isAbortFinal(3, 5));
});

const members = ['a', 'b', 'c', 'd', 'e'];

/** Views of the five members in order: a state, `-` for no answer. */
function answers(...states: readonly (TransactionState | '-' | 'COMMITTED@16' | 'decided-COMMIT' | 'in-flight')[]): readonly MemberAnswer[] {
  return states.map((state, index): MemberAnswer => {
    const addr = members[index] ?? '?';
    if (state === '-') return { addr, view: undefined };
    if (state === 'COMMITTED@16') return { addr, view: { state: 'COMMITTED', sequence: 16, participants: ['a', 'b'] } };
    if (state === 'decided-COMMIT') return { addr, view: { state: 'PREPARED', decision: 'COMMIT' } };
    if (state === 'in-flight') return { addr, view: { state: 'UNKNOWN', in_flight: true } };
    return { addr, view: { state } };
  });
}

const table: readonly { readonly situation: string; readonly answers: readonly MemberAnswer[]; readonly want: AbortedEarlierAnswer }[] = [
  {
    situation: 'a later master committed the retry (chaos partition-2-3)',
    answers: answers('ABORTED', 'COMMITTED@16', '-', 'ABORTED', 'UNKNOWN'),
    want: { kind: 'committed', sequence: 16, participants: ['a', 'b'] },
  },
  { situation: 'a majority remembers the abort', answers: answers('ABORTED', 'ABORTED', 'ABORTED', '-', '-'), want: { kind: 'aborted' } },
  { situation: 'a majority remembers it, one still prepared by another round', answers: answers('ABORTED', 'ABORTED', 'ABORTED', 'PREPARED', '-'), want: { kind: 'in-doubt' } },
  { situation: 'someone runs a round of it', answers: answers('ABORTED', 'in-flight', 'UNKNOWN', 'UNKNOWN', 'UNKNOWN'), want: { kind: 'in-doubt' } },
  { situation: 'a coordinator decided COMMIT for it', answers: answers('ABORTED', 'decided-COMMIT', 'UNKNOWN', 'UNKNOWN', 'UNKNOWN'), want: { kind: 'in-doubt' } },
  {
    situation: 'only this node remembers it, the others never saw it: they are made to',
    answers: answers('ABORTED', 'UNKNOWN', 'UNKNOWN', '-', '-'),
    want: { kind: 'fence', addrs: ['b', 'c'] },
  },
  { situation: 'too few answer to know that no round committed it', answers: answers('ABORTED', 'UNKNOWN', '-', '-', '-'), want: { kind: 'in-doubt' } },
];

for (const row of table) {
  test(`a resubmit of an id aborted earlier, when ${row.situation}: ${row.want.kind}`, (t) => {
    t.deepEqual(judgeAbortedEarlier(row.answers, members.length), row.want);
  });
}
