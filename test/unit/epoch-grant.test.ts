/**
 * The epoch grant (lib/cluster/election.ts, `answerClaim`), table-driven: what a node with
 * a current epoch and a last grant answers a candidate's claim. Each epoch belongs to one
 * candidate: granted once, never below the highest epoch seen, only to a member.
 */
import test from 'ava';
import { answerClaim, type ClaimAnswer, type EpochGrant } from '../../lib/cluster/election.ts';
import { epoch_claim_lead_max } from '../../lib/protocol/messages.ts';

const members = ['a:1', 'b:1', 'c:1'];
const claim = (epoch: number, candidate: string): EpochGrant => ({ epoch, candidate });

const table: readonly { readonly rule: string; readonly epoch: number; readonly granted?: EpochGrant; readonly claim: EpochGrant; readonly answer: ClaimAnswer }[] = [
  { rule: 'a claim above everything seen is granted', epoch: 3, claim: claim(4, 'a:1'), answer: { granted: true, grant: claim(4, 'a:1') } },
  { rule: 'a claim may skip epochs', epoch: 3, granted: claim(3, 'b:1'), claim: claim(9, 'a:1'), answer: { granted: true, grant: claim(9, 'a:1') } },
  { rule: 'a claim of the current epoch nobody was granted is granted', epoch: 4, claim: claim(4, 'a:1'), answer: { granted: true, grant: claim(4, 'a:1') } },
  { rule: 'a claim below the current epoch is stale', epoch: 5, claim: claim(4, 'a:1'), answer: { granted: false, reason: 'stale epoch', epoch: 5 } },
  { rule: 'the same candidate claiming its granted epoch again gets the same grant (its answer was lost)', epoch: 4, granted: claim(4, 'a:1'), claim: claim(4, 'a:1'), answer: { granted: true, grant: claim(4, 'a:1') } },
  { rule: 'an epoch granted to one candidate is refused to another', epoch: 4, granted: claim(4, 'a:1'), claim: claim(4, 'b:1'), answer: { granted: false, reason: 'epoch already granted', epoch: 4 } },
  { rule: 'a claim below the last grant is stale, even above the current epoch', epoch: 2, granted: claim(6, 'b:1'), claim: claim(5, 'a:1'), answer: { granted: false, reason: 'stale epoch', epoch: 6 } },
  { rule: 'a candidate outside the membership is refused, whatever its epoch', epoch: 2, claim: claim(9, 'z:1'), answer: { granted: false, reason: 'not a member', epoch: 2 } },
  // Issue 14, item 8: claims of 2^53-1 on every node left the cluster without a master for good.
  { rule: 'a claim up to epoch_claim_lead_max above the current epoch is granted', epoch: 3, claim: claim(3 + epoch_claim_lead_max, 'a:1'), answer: { granted: true, grant: claim(3 + epoch_claim_lead_max, 'a:1') } },
  { rule: 'a claim further above the current epoch is refused', epoch: 3, claim: claim(4 + epoch_claim_lead_max, 'a:1'), answer: { granted: false, reason: 'epoch too far ahead', epoch: 3 } },
  { rule: 'the bound counts from the last grant when it is higher', epoch: 3, granted: claim(8, 'b:1'), claim: claim(9 + epoch_claim_lead_max, 'a:1'), answer: { granted: false, reason: 'epoch too far ahead', epoch: 8 } },
];

for (const row of table) {
  test(row.rule, (t) => {
    t.deepEqual(answerClaim(row.epoch, row.granted, row.claim, members), row.answer);
  });
}

test('two candidates cannot both be granted one epoch by the same node, in either order', (t) => {
  for (const [first, second] of [['a:1', 'b:1'], ['b:1', 'a:1']] as const) {
    const answer = answerClaim(3, undefined, claim(4, first), members);
    t.true(answer.granted);
    const grant = answer.granted ? answer.grant : undefined;
    t.false(answerClaim(4, grant, claim(4, second), members).granted);
  }
});
