/**
 * Unconfirmed COMMIT decisions under concurrent reconcile passes and a take-over, by script
 * (test/unit/testdata/*.txt, etcd raft's datadriven style). The script drives the real pure
 * pieces: UnconfirmedDecisions (who may act on a decision), reconcileDecision (which looks
 * again after its awaits, and withdraws only once no late copy of the COMMIT can be applied),
 * splitForTakeOver and decideAdopted.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { readTitle, runScript, type Command } from './datadriven.ts';
import { UnconfirmedDecisions } from '../../lib/two-phase-commit/unconfirmed-decisions.ts';
import { reconcileDecision, type KeptSequence, type PeerAnswer } from '../../lib/two-phase-commit/termination.ts';
import { decideAdopted, splitForTakeOver } from '../../lib/cluster/take-over.ts';
import type { TransactionView } from '../../lib/protocol/messages.ts';

const scripts = [
  'reconcile-adopted-by-take-over.txt',
  'take-over-after-reconcile-claimed.txt',
  'reconcile-commit-keeps-sequence.txt',
  'take-over-loses-its-term.txt',
  'reconcile-withdraws-once-late-copies-refused.txt',
  'reconcile-withdraws-from-the-highest-down.txt',
  'reconcile-commits-only-below-its-own-term.txt',
  'reconcile-waits-for-a-replica-under-repair.txt',
];

/**
 * `PREPARED`, `ABORTED`, `COMMITTED@7`, or `silent` (no answer); `/epoch3` after the state:
 * the epoch the participant enforces (absent: it does not report one); `/reset`: a repair
 * wiped its log and it has not pulled it again yet; `/forgot3`: a repair may have made it
 * forget rounds up to epoch 3.
 */
function parseAnswer(addr: string, text: string): PeerAnswer {
  if (text === 'silent') return { addr, view: undefined };
  const [answer = '', ...marks] = text.split('/');
  const log_reset = marks.includes('reset');
  const epoch = marks.find((mark) => mark.startsWith('epoch'))?.slice('epoch'.length);
  const forgot = marks.find((mark) => mark.startsWith('forgot'))?.slice('forgot'.length);
  const [state, sequence] = answer.split('@');
  const view: TransactionView = {
    transaction_id: 't',
    state: state as TransactionView['state'],
    since: 0,
    ...(sequence !== undefined && { sequence: Number(sequence) }),
    ...(epoch !== undefined && { enforced_epoch: Number(epoch) }),
    ...(log_reset && { log_reset }),
    ...(forgot !== undefined && { forgot_through_epoch: Number(forgot) }),
  };
  return { addr, view };
}

/** `7/term4`: sequence 7, decided here in term 4; `7`: sequence 7, not decided here. */
function parseKept(text: string): KeptSequence {
  const [sequence = '', term] = text.split('/term');
  return { sequence: Number(sequence), term: term === undefined ? undefined : Number(term) };
}

function createHandler(): (command: Command) => string {
  const unconfirmed = new UnconfirmedDecisions();
  const sequences = new Map<string, number>();
  const terms = new Map<string, number>();
  return (command) => {
    // `unconfirmed t seq=3 sent=2 term=2`: found at start-up or handed back, decided in term 2 (default: `sent`), its COMMIT sent under epochs up to 2.
    const id = command.positional[0] ?? '';
    switch (command.name) {
      case 'unconfirmed': {
        const sequence = Number(command.args.get('seq'));
        const sent = Number(command.args.get('sent') ?? 1);
        sequences.set(id, sequence);
        terms.set(id, Number(command.args.get('term') ?? sent));
        unconfirmed.add(id, sequence, sent);
        return `${id} waiting at sequence ${sequence}`;
      }
      case 'reconcile-answers': {
        // `applied-above=7/term4`: the lowest sequence applied here above this decision's; every other argument is a participant's answer.
        const applied_above = command.args.get('applied-above');
        const answers = [...command.args].filter(([addr]) => addr !== 'applied-above').map(([addr, text]) => parseAnswer(addr, text));
        const sequence = sequences.get(id) ?? 0;
        const adopted = unconfirmed.listAdopted().flatMap((kept) => (kept.sequence !== undefined && kept.sequence > sequence ? [{ sequence: kept.sequence, term: terms.get(kept.id) }] : []));
        const outcome = reconcileDecision(answers, {
          still_unconfirmed: unconfirmed.isWaiting(id),
          sent_epoch: unconfirmed.sentEpochOf(id),
          sequence: sequences.get(id),
          sequence_taken_here: command.positional.includes('taken-here'),
          highest_unsettled_other: unconfirmed.highestUnsettledOther(id),
          term: terms.get(id) ?? 0,
          kept_above: [...(applied_above === undefined ? [] : [parseKept(applied_above)]), ...adopted],
          caught_up: !command.positional.includes('not-caught-up'),
        });
        if (outcome.kind === 'wait' || outcome.kind === 'skip') return `${outcome.kind}: ${outcome.reason}`;
        const claimed = unconfirmed.claim(id, outcome.kind) ? 'claimed' : 'not claimed';
        return outcome.kind === 'commit' ? `commit ${id} at ${outcome.sequence} (${claimed})` : `withdraw ${id} (${claimed})`;
      }
      case 'take-over': {
        const split = splitForTakeOver(
          {
            decision: { decision: 'COMMIT', sequence: sequences.get(id)! },
            applied_here: command.positional.includes('applied-here'),
            sequence_taken_here: command.positional.includes('taken-here'),
            still_unconfirmed: unconfirmed.isWaiting(id),
          },
          Number(command.args.get('known-max-applied')),
        );
        switch (split.kind) {
          case 'settled':
            unconfirmed.drop(id);
            return `settled ${id}: ${split.reason}`;
          case 'adopt':
            unconfirmed.adopt(id);
            return `adopt ${id} at sequence ${split.sequence}`;
          case 'wait':
            return `wait ${id}: ${split.reason}`;
        }
      }
      // falls through: every split returns
      case 'adopted': {
        const role = command.args.get('role') === 'MASTER' ? 'MASTER' : 'SLAVE';
        const term = command.args.get('leads');
        const fate = decideAdopted(Number(command.args.get('term')), { role, epoch: Number(command.args.get('epoch')), term: term === undefined ? undefined : Number(term) });
        if (fate.kind === 'redrive') return `re-send ${id} under epoch ${fate.epoch}`;
        unconfirmed.add(id, sequences.get(id), Number(command.args.get('term')));
        return `give ${id} back: ${fate.reason}`;
      }
      case 'shown':
        return `${id} ${unconfirmed.isMasked(id) ? 'masked' : 'not masked'}`;
      case 'max-sequence':
        return String(unconfirmed.maxSequence());
      case 'done':
        unconfirmed.finish(id);
        return `${id} settled`;
      default:
        throw new Error(`line ${command.line}: unknown command ${command.name}`);
    }
  };
}

for (const script of scripts) {
  const path = fileURLToPath(new URL(`testdata/${script}`, import.meta.url));
  test(readTitle(path), (t) => runScript(t, path, createHandler()));
}

test('a claimed settlement that fails gives the decision back to wait again', (t) => {
  const unconfirmed = new UnconfirmedDecisions();
  unconfirmed.add('t', 4, 2);
  t.true(unconfirmed.claim('t', 'withdraw'));
  t.false(unconfirmed.claim('t', 'commit'), 'claimed once');
  unconfirmed.giveBack('t');
  t.true(unconfirmed.isWaiting('t'));
  t.is(unconfirmed.maxSequence(), 4);
  t.is(unconfirmed.sentEpochOf('t'), 2, 'with the epoch its COMMIT went out under');
});

test('a decision handed back again keeps the newest epoch its COMMIT went out under', (t) => {
  const unconfirmed = new UnconfirmedDecisions();
  unconfirmed.add('t', 4, 3);
  unconfirmed.add('t', 4, 2);
  t.is(unconfirmed.sentEpochOf('t'), 3);
  unconfirmed.add('t', 4, 5);
  t.is(unconfirmed.sentEpochOf('t'), 5);
});

test('a decision a take-over adopted counts as kept until it is given back or applied here', (t) => {
  const unconfirmed = new UnconfirmedDecisions();
  unconfirmed.add('t', 4, 2);
  unconfirmed.adopt('t');
  t.deepEqual(unconfirmed.listAdopted(), [{ id: 't', sequence: 4 }]);
  unconfirmed.add('t', 4, 3);
  t.deepEqual(unconfirmed.listAdopted(), [], 'given back, it may be withdrawn again');
  unconfirmed.adopt('t');
  unconfirmed.forgetApplied((id) => id === 'u');
  t.deepEqual(unconfirmed.listAdopted(), [{ id: 't', sequence: 4 }]);
  unconfirmed.forgetApplied((id) => id === 't');
  t.deepEqual(unconfirmed.listAdopted(), [], 'applied here, the store tells of it');
});
