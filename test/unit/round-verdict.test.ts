/**
 * A round's verdict on one transaction (lib/two-phase-commit/round-verdict.ts), table-driven:
 * the participants' votes and the coordinator's standing in, what the round does out.
 */
import test from 'ava';
import { decideOutcome, judgeTransaction, listReadyVoters, listRecipients, summarizeVotes, type Ballot, type Standing, type Verdict } from '../../lib/two-phase-commit/round-verdict.ts';
import type { PrepareResponse } from '../../lib/protocol/messages.ts';

const nodes = ['a:1', 'b:1', 'c:1'];
const leading: Standing = { kind: 'leading' };
const READY: PrepareResponse = { status: 'READY' };
const refuse = (reason: string, extra: { sequence?: number; key?: string } = {}): PrepareResponse => ({ status: 'ABORT', reason, ...extra });
const ballots = (...responses: (PrepareResponse | undefined)[]): Ballot[] =>
  responses.flatMap((response, index) => (response === undefined ? [] : [{ addr: nodes[index]!, response }]));

const table: readonly { readonly rule: string; readonly votes: Ballot[]; readonly standing?: Standing; readonly verdict: Verdict }[] = [
  { rule: 'every participant READY decides COMMIT', votes: ballots(READY, READY, READY), verdict: { kind: 'decide', outcome: { decision: 'COMMIT' } } },
  { rule: 'one refusal decides ABORT with its reason', votes: ballots(READY, refuse('conflict', { key: 'k' }), READY), verdict: { kind: 'decide', outcome: { decision: 'ABORT', reason: 'conflict' } } },
  { rule: 'the first refusal in participant order gives the reason', votes: ballots(READY, refuse('storage error'), refuse('conflict')), verdict: { kind: 'decide', outcome: { decision: 'ABORT', reason: 'storage error' } } },
  { rule: 'a participant with no ballot at all decides ABORT unreachable', votes: ballots(READY, READY, undefined), verdict: { kind: 'decide', outcome: { decision: 'ABORT', reason: 'unreachable' } } },
  {
    rule: 'a coordinator that lost mastership while collecting votes decides ABORT though all are READY',
    votes: ballots(READY, READY, READY),
    standing: { kind: 'must-abort', reason: 'lost mastership' },
    verdict: { kind: 'decide', outcome: { decision: 'ABORT', reason: 'lost mastership' } },
  },
  // Once seed 45 / 199 of the simulation's early sweeps: a retried id committed in an earlier
  // round was committed again at a new sequence.
  { rule: 'an id a participant already committed is finished at that sequence, not decided anew', votes: ballots(READY, refuse('already committed', { sequence: 7 }), READY), verdict: { kind: 'committed-earlier', sequence: 7 } },
  {
    rule: 'an earlier commit is finished even by a coordinator that must abort',
    votes: ballots(READY, refuse('already committed', { sequence: 7 }), refuse('in doubt')),
    standing: { kind: 'must-abort', reason: 'failpoint' },
    verdict: { kind: 'committed-earlier', sequence: 7 },
  },
  // Once seed 199 of the second sweep: a retry under a new master joined a round still in doubt.
  { rule: 'an id another round holds prepared gets no decision: it is in doubt elsewhere', votes: ballots(READY, refuse('in doubt'), READY), verdict: { kind: 'in-doubt-elsewhere' } },
  { rule: 'an id in doubt elsewhere gets no ABORT either, even from a coordinator that must abort', votes: ballots(refuse('in doubt')), standing: { kind: 'must-abort', reason: 'lost mastership' }, verdict: { kind: 'in-doubt-elsewhere' } },
  {
    rule: 'an id a participant holds with other writes is refused, not aborted (an abort would end the earlier attempt)',
    votes: ballots(READY, refuse('transaction id reused with a different payload'), READY),
    verdict: { kind: 'reused-id' },
  },
  {
    rule: 'a reused id held in doubt is still refused as reused',
    votes: ballots(refuse('in doubt'), refuse('transaction id reused with a different payload'), READY),
    verdict: { kind: 'reused-id' },
  },
];

for (const row of table) {
  test(row.rule, (t) => {
    t.deepEqual(judgeTransaction(nodes, row.votes, row.standing ?? leading), row.verdict);
  });
}

test('the client sees each vote as READY or ABORT with its reason', (t) => {
  t.deepEqual(summarizeVotes(ballots(READY, refuse('conflict'), READY)), { 'a:1': 'READY', 'b:1': 'ABORT: conflict', 'c:1': 'READY' });
});

test('only the READY voters hold a round\'s writes prepared', (t) => {
  t.deepEqual(listReadyVoters(ballots(READY, refuse('transaction id reused with a different payload'), READY)), ['a:1', 'c:1']);
});

const recipients_table: readonly { readonly rule: string; readonly verdict: Verdict; readonly recipients: readonly string[] }[] = [
  // Once seed 80 of the simulation's second sweep: the participant that refused never
  // remembered the abort, so a client's retry of the id under another master committed there.
  { rule: 'an ABORT decision goes to every participant, the ones that refused included', verdict: { kind: 'decide', outcome: { decision: 'ABORT', reason: 'conflict' } }, recipients: nodes },
  { rule: 'a COMMIT decision goes to every participant', verdict: { kind: 'decide', outcome: { decision: 'COMMIT' } }, recipients: nodes },
  { rule: 'an earlier commit is finished on the READY voters', verdict: { kind: 'committed-earlier', sequence: 7 }, recipients: ['a:1', 'c:1'] },
  { rule: 'a reused id\'s abort goes to the READY voters only: the holder of the earlier attempt keeps it', verdict: { kind: 'reused-id' }, recipients: ['a:1', 'c:1'] },
  { rule: 'an id in doubt elsewhere is told nobody: termination settles it', verdict: { kind: 'in-doubt-elsewhere' }, recipients: [] },
];

for (const row of recipients_table) {
  test(row.rule, (t) => {
    t.deepEqual(listRecipients(row.verdict, nodes, ballots(READY, refuse('conflict'), READY)), row.recipients);
  });
}

test('a round needs at least one participant', (t) => {
  t.throws(() => decideOutcome([], []));
});
